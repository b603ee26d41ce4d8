"""Seed the four categories and, on PostgreSQL, the full-text search trigger and GIN index."""

from django.db import migrations

CATEGORIES = [
    ("general", "General", "Everyday helpers: documents, email, monitoring and data.", 1),
    ("crypto", "Crypto", "Trading, DeFi and on-chain analytics agents.", 2),
    ("ai-ml", "AI/ML", "Language, vision and knowledge agents.", 3),
    ("automation", "Automation", "Scheduling, alerts and workflow automation.", 4),
]

# Weights: name A, tags and summary B, description C. A trigger (not a generated column)
# because the tags JSON array needs a set-returning function, which generated columns forbid.
SEARCH_SQL = """
CREATE OR REPLACE FUNCTION marketplace_agent_search_vector_update() RETURNS trigger AS $$
BEGIN
  NEW.search_vector :=
    setweight(to_tsvector('english', coalesce(NEW.name, '')), 'A') ||
    setweight(to_tsvector('english', CASE WHEN jsonb_typeof(NEW.tags) = 'array'
      THEN array_to_string(ARRAY(SELECT jsonb_array_elements_text(NEW.tags)), ' ')
      ELSE '' END), 'B') ||
    setweight(to_tsvector('english', coalesce(NEW.summary, '')), 'B') ||
    setweight(to_tsvector('english', coalesce(NEW.description, '')), 'C');
  RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER marketplace_agent_search_vector
BEFORE INSERT OR UPDATE OF name, summary, description, tags ON marketplace_agent
FOR EACH ROW EXECUTE FUNCTION marketplace_agent_search_vector_update();

CREATE INDEX marketplace_agent_search_gin ON marketplace_agent USING GIN (search_vector);
UPDATE marketplace_agent SET name = name;
"""

REVERSE_SQL = """
DROP INDEX IF EXISTS marketplace_agent_search_gin;
DROP TRIGGER IF EXISTS marketplace_agent_search_vector ON marketplace_agent;
DROP FUNCTION IF EXISTS marketplace_agent_search_vector_update();
"""


def add_categories(apps, schema_editor):
    Category = apps.get_model("marketplace", "Category")
    for slug, name, description, position in CATEGORIES:
        Category.objects.update_or_create(
            slug=slug, defaults={"name": name, "description": description, "position": position}
        )


def add_search(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SEARCH_SQL)


def remove_search(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE_SQL)


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0001_initial")]

    operations = [
        migrations.RunPython(add_categories, migrations.RunPython.noop),
        migrations.RunPython(add_search, remove_search),
    ]
