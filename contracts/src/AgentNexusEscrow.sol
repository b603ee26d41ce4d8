// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IAgentNexusEntitlements} from "./interfaces/IAgentNexusEntitlements.sol";

/// @title AgentNexus per-run escrow
/// @notice Buyers pay `runs x price` for an agent up front; the escrow keeps the money and mints one
/// entitlement unit per run. Each run is then settled exactly once by the orchestrator: released to
/// the developer (minus the platform fee) or refunded to the buyer. After the payment's expiry the
/// buyer (or anyone on the buyer's behalf) takes back every unsettled run.
///
/// Invariant: for every token, this contract's balance equals the sum over payments of
/// `unsettled x price`. Only purchase, release, refund and reclaim move funds, and no admin
/// function can withdraw escrowed funds.
contract AgentNexusEscrow is AccessControl, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    bytes32 public constant ORCHESTRATOR_ROLE = keccak256("ORCHESTRATOR_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice The token address that stands for native ETH.
    address public constant NATIVE_TOKEN = address(0);
    /// @notice Highest platform fee: 30%.
    uint16 public constant MAX_FEE_BPS = 3000;
    /// @notice Run references per word of the settled-runs bitmap: word = runRef / 255, bit =
    /// runRef % 255. Bit 255 of a word stands for no run reference; `prepareRunRefs` sets it.
    uint256 public constant RUN_REFS_PER_WORD = 255;
    uint256 private constant BPS = 10_000;
    /// @dev The bit `prepareRunRefs` sets: bit 255, which no run reference maps to.
    uint256 private constant PREPARED_SENTINEL = 1 << 255;
    /// @dev The word of run reference 2**256 - 1, the highest word any reference maps to.
    uint256 private constant LAST_RUN_REF_WORD = type(uint256).max / RUN_REFS_PER_WORD;

    IAgentNexusEntitlements public immutable entitlements;
    /// @notice Seconds from purchase until the payment expires.
    uint40 public immutable paymentTtl;

    // These three share one slot with Pausable's `_paused` (declared in that order): the hot paths
    // read paused state, the next payment id, the fee and its recipient with one SLOAD.
    uint64 private _lastPaymentId;
    uint16 public platformFeeBps;
    address public feeRecipient;

    /// @dev Two storage slots. The price and the fee are snapshotted at purchase time.
    struct Payment {
        address buyer; // slot 0
        uint96 price; // slot 0: price per run, in token units
        uint64 agentId; // slot 1
        uint40 expiresAt; // slot 1
        uint32 runs; // slot 1: runs bought
        uint32 unsettled; // slot 1: runs neither released, refunded nor reclaimed
        uint16 feeBps; // slot 1: platform fee at purchase time
        uint16 tokenIndex; // slot 1: index into `_tokenAt`
    }

    /// @notice Read-only view of a payment, with the token resolved to its address.
    struct PaymentView {
        address buyer;
        uint256 agentId;
        address token;
        uint256 price;
        uint256 runs;
        uint256 unsettled;
        uint256 feeBps;
        uint256 expiresAt;
    }

    struct TokenConfig {
        bool known;
        bool allowed;
        uint16 index;
    }

    mapping(uint256 paymentId => Payment) private _payments;
    mapping(address token => TokenConfig) private _tokens;
    mapping(uint256 index => address token) private _tokenAt;
    uint16 private _tokenCount;
    mapping(uint256 agentId => address developer) private _developers;
    mapping(uint256 agentId => mapping(address token => uint256 price)) private _prices;
    /// @dev Settled run references as a bitmap: word = runRef / 255, bit = runRef % 255, so 255
    /// sequential run references share a word. Bit 255 is the "prepared" sentinel: a word that holds
    /// it is never zero, so the first settlement in it rewrites a non-zero slot (5,000 gas) instead of
    /// creating one (22,100). Bits are only ever set, never cleared.
    mapping(uint256 word => uint256 bits) private _settledRuns;

    event PaymentCreated(
        uint256 indexed paymentId,
        address indexed buyer,
        uint256 indexed agentId,
        address token,
        uint256 runs,
        uint256 price,
        uint256 amount,
        uint256 feeBps,
        uint256 expiresAt
    );
    event RunReleased(
        uint256 indexed paymentId, bytes32 indexed runRef, address developer, uint256 developerAmount, uint256 fee
    );
    event RunRefunded(uint256 indexed paymentId, bytes32 indexed runRef, address buyer, uint256 amount);
    event PaymentReclaimed(uint256 indexed paymentId, address indexed buyer, uint256 runs, uint256 amount);
    event AgentRegistered(uint256 indexed agentId, address indexed developer);
    event DeveloperSet(uint256 indexed agentId, address indexed previousDeveloper, address indexed developer);
    event PriceSet(uint256 indexed agentId, address indexed token, uint256 price);
    event TokenAllowed(address indexed token, uint256 index, bool allowed);
    event PlatformFeeSet(uint256 previousFeeBps, uint256 feeBps);
    event FeeRecipientSet(address indexed previousRecipient, address indexed recipient);
    event RunRefWordsPrepared(uint256 fromWord, uint256 count, uint256 prepared);

    error ZeroAddress();
    error ZeroRuns();
    error TooManyRuns(uint256 runs);
    error FeeTooHigh(uint256 feeBps, uint256 maxFeeBps);
    error InvalidPaymentTtl(uint256 ttl);
    error AgentIdTooLarge(uint256 agentId);
    error AgentAlreadyRegistered(uint256 agentId);
    error AgentNotRegistered(uint256 agentId);
    error PriceTooLarge(uint256 price);
    error NotAContract(address token);
    error TooManyTokens();
    error TokenNotAllowed(address token);
    error NotForSale(uint256 agentId, address token);
    error IncorrectEthAmount(uint256 expected, uint256 received);
    error TokenAmountMismatch(address token, uint256 expected, uint256 received);
    error UnknownPayment(uint256 paymentId);
    error InsufficientUnsettledRuns(uint256 paymentId, uint256 requested, uint256 unsettled);
    error PaymentExpired(uint256 paymentId, uint256 expiresAt);
    error PaymentNotExpired(uint256 paymentId, uint256 expiresAt);
    error NothingToReclaim(uint256 paymentId);
    error InvalidRunRef();
    error RunAlreadySettled(bytes32 runRef);
    error EmptyBatch();
    error LengthMismatch(uint256 paymentIds, uint256 runRefs);
    error EthTransferFailed(address to, uint256 amount);
    error InvalidRunRefWords(uint256 fromWord, uint256 count);

    constructor(
        address admin,
        IAgentNexusEntitlements entitlements_,
        address feeRecipient_,
        uint16 feeBps,
        uint40 paymentTtl_
    ) {
        if (admin == address(0) || address(entitlements_) == address(0) || feeRecipient_ == address(0)) {
            revert ZeroAddress();
        }
        if (feeBps > MAX_FEE_BPS) revert FeeTooHigh(feeBps, MAX_FEE_BPS);
        if (paymentTtl_ == 0 || paymentTtl_ > 3650 days) revert InvalidPaymentTtl(paymentTtl_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        entitlements = entitlements_;
        paymentTtl = paymentTtl_;
        platformFeeBps = feeBps;
        feeRecipient = feeRecipient_;
        // Native ETH is token index 0 and accepted from the start.
        _tokens[NATIVE_TOKEN] = TokenConfig({known: true, allowed: true, index: 0});
        _tokenCount = 1;
        emit PlatformFeeSet(0, feeBps);
        emit FeeRecipientSet(address(0), feeRecipient_);
        emit TokenAllowed(NATIVE_TOKEN, 0, true);
    }

    // ------------------------------------------------------------------ buying

    /// @notice Pay exactly `runs x price(agentId, token)` and receive `runs` entitlement units.
    /// For ETH send the amount as `msg.value`; for an ERC-20 approve it to this contract first.
    function purchase(uint256 agentId, address token, uint256 runs)
        external
        payable
        nonReentrant
        whenNotPaused
        returns (uint256 paymentId)
    {
        if (runs == 0) revert ZeroRuns();
        if (runs > type(uint32).max) revert TooManyRuns(runs);
        TokenConfig memory config = _tokens[token];
        if (!config.allowed) revert TokenNotAllowed(token);
        uint256 price = _prices[agentId][token];
        if (price == 0) revert NotForSale(agentId, token);
        uint256 amount = price * runs; // price < 2**96 and runs < 2**32: no overflow
        if (msg.value != (token == NATIVE_TOKEN ? amount : 0)) {
            revert IncorrectEthAmount(token == NATIVE_TOKEN ? amount : 0, msg.value);
        }

        paymentId = ++_lastPaymentId;
        uint16 feeBps = platformFeeBps;
        uint256 expiresAt = block.timestamp + paymentTtl;
        _payments[paymentId] = Payment({
            buyer: msg.sender,
            price: uint96(price), // setPrice caps prices at 2**96 - 1
            agentId: uint64(agentId), // a price exists only for registered ids, which fit 64 bits
            expiresAt: uint40(expiresAt),
            runs: uint32(runs),
            unsettled: uint32(runs),
            feeBps: feeBps,
            tokenIndex: config.index
        });
        emit PaymentCreated(paymentId, msg.sender, agentId, token, runs, price, amount, feeBps, expiresAt);

        if (token != NATIVE_TOKEN) {
            IERC20 erc20 = IERC20(token);
            uint256 before = erc20.balanceOf(address(this));
            erc20.safeTransferFrom(msg.sender, address(this), amount);
            uint256 received = erc20.balanceOf(address(this)) - before;
            if (received != amount) revert TokenAmountMismatch(token, amount, received);
        }
        entitlements.mint(msg.sender, agentId, runs);
    }

    // ------------------------------------------------------------------ settlement (orchestrator)

    /// @notice Pay one run to the developer (minus the platform fee) and burn one of the buyer's units.
    function release(uint256 paymentId, bytes32 runRef)
        external
        nonReentrant
        whenNotPaused
        onlyRole(ORCHESTRATOR_ROLE)
    {
        _settleOne(paymentId, runRef, address(0), true);
    }

    /// @notice Return one run's price to the buyer and burn one of the buyer's units.
    /// Works while paused and after expiry.
    function refund(uint256 paymentId, bytes32 runRef) external nonReentrant onlyRole(ORCHESTRATOR_ROLE) {
        _settleOne(paymentId, runRef, address(0), false);
    }

    /// @notice `release`, burning the unit from `holder` instead of the buyer (transferable agents).
    function releaseFrom(uint256 paymentId, bytes32 runRef, address holder)
        external
        nonReentrant
        whenNotPaused
        onlyRole(ORCHESTRATOR_ROLE)
    {
        if (holder == address(0)) revert ZeroAddress();
        _settleOne(paymentId, runRef, holder, true);
    }

    /// @notice `refund`, burning the unit from `holder` instead of the buyer (transferable agents).
    /// The money still goes to the buyer who paid.
    function refundFrom(uint256 paymentId, bytes32 runRef, address holder)
        external
        nonReentrant
        onlyRole(ORCHESTRATOR_ROLE)
    {
        if (holder == address(0)) revert ZeroAddress();
        _settleOne(paymentId, runRef, holder, false);
    }

    /// @notice Release many runs. `paymentIds[i]` is the payment of `runRefs[i]`; consecutive equal
    /// payment ids are settled together with one burn and one transfer per payee, so sort by payment.
    function releaseBatch(uint256[] calldata paymentIds, bytes32[] calldata runRefs)
        external
        nonReentrant
        whenNotPaused
        onlyRole(ORCHESTRATOR_ROLE)
    {
        _settleBatch(paymentIds, runRefs, true);
    }

    /// @notice Refund many runs; see `releaseBatch`. Works while paused and after expiry.
    function refundBatch(uint256[] calldata paymentIds, bytes32[] calldata runRefs)
        external
        nonReentrant
        onlyRole(ORCHESTRATOR_ROLE)
    {
        _settleBatch(paymentIds, runRefs, false);
    }

    // ------------------------------------------------------------------ run reference words (anyone)

    /// @notice Pre-warm the settled-runs bitmap words `fromWord .. fromWord + count - 1`: each word
    /// that is still zero gets the sentinel bit 255, so the first settlement of a run reference in it
    /// (word = runRef / RUN_REFS_PER_WORD) costs ~17,100 gas less. Words already non-zero are left
    /// alone, so repeating a call only costs reads (and emits nothing). Needs no role and works while
    /// paused: the sentinel stands for no run reference, so this can neither settle a run nor move
    /// funds; an outsider calling it only pays for the platform's storage.
    /// @return prepared The number of words that were zero and now hold the sentinel.
    function prepareRunRefs(uint256 fromWord, uint256 count) external returns (uint256 prepared) {
        if (count == 0 || fromWord > LAST_RUN_REF_WORD || count - 1 > LAST_RUN_REF_WORD - fromWord) {
            revert InvalidRunRefWords(fromWord, count);
        }
        uint256 end = fromWord + count; // at most LAST_RUN_REF_WORD + 1: no overflow
        for (uint256 word = fromWord; word < end; ++word) {
            if (_settledRuns[word] == 0) {
                _settledRuns[word] = PREPARED_SENTINEL;
                ++prepared;
            }
        }
        if (prepared != 0) emit RunRefWordsPrepared(fromWord, count, prepared);
    }

    // ------------------------------------------------------------------ reclaim (anyone, after expiry)

    /// @notice After expiry, return every unsettled run of a payment to its buyer and burn the
    /// buyer's units. Needs no role: anyone may trigger it, and the money only goes to the buyer.
    function reclaim(uint256 paymentId) external nonReentrant {
        Payment memory p = _payments[paymentId];
        if (p.buyer == address(0)) revert UnknownPayment(paymentId);
        if (block.timestamp < p.expiresAt) revert PaymentNotExpired(paymentId, p.expiresAt);
        if (p.unsettled == 0) revert NothingToReclaim(paymentId);
        _payments[paymentId].unsettled = 0;
        uint256 amount = uint256(p.price) * p.unsettled;
        emit PaymentReclaimed(paymentId, p.buyer, p.unsettled, amount);
        entitlements.burn(p.buyer, p.agentId, p.unsettled);
        _send(_token(p.tokenIndex), p.buyer, amount);
    }

    // ------------------------------------------------------------------ views

    function getPayment(uint256 paymentId) external view returns (PaymentView memory v) {
        Payment memory p = _payments[paymentId];
        v = PaymentView({
            buyer: p.buyer,
            agentId: p.agentId,
            token: _token(p.tokenIndex),
            price: p.price,
            runs: p.runs,
            unsettled: p.unsettled,
            feeBps: p.feeBps,
            expiresAt: p.expiresAt
        });
    }

    /// @notice The id of the latest payment (payment ids start at 1).
    function lastPaymentId() external view returns (uint256) {
        return _lastPaymentId;
    }

    function developerOf(uint256 agentId) external view returns (address) {
        return _developers[agentId];
    }

    function priceOf(uint256 agentId, address token) external view returns (uint256) {
        return _prices[agentId][token];
    }

    function tokenConfig(address token) external view returns (TokenConfig memory) {
        return _tokens[token];
    }

    function tokenAt(uint256 index) external view returns (address) {
        return _tokenAt[index];
    }

    function tokenCount() external view returns (uint256) {
        return _tokenCount;
    }

    /// @notice Whether `runRef` was released or refunded (a prepared word's sentinel is no run).
    function isRunSettled(bytes32 runRef) external view returns (bool) {
        uint256 ref = uint256(runRef);
        return _settledRuns[ref / RUN_REFS_PER_WORD] & (1 << (ref % RUN_REFS_PER_WORD)) != 0;
    }

    /// @notice Whether bitmap word `word` is non-zero (prepared, or holding a settled run): the first
    /// settlement in it will not pay for a new storage slot.
    function isRunRefWordPrepared(uint256 word) external view returns (bool) {
        return _settledRuns[word] != 0;
    }

    // ------------------------------------------------------------------ admin

    function registerAgent(uint256 agentId, address developer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (agentId > type(uint64).max) revert AgentIdTooLarge(agentId);
        if (developer == address(0)) revert ZeroAddress();
        if (_developers[agentId] != address(0)) revert AgentAlreadyRegistered(agentId);
        _developers[agentId] = developer;
        emit AgentRegistered(agentId, developer);
    }

    /// @notice Change where an agent's releases are paid (takes effect for unsettled runs too).
    function setDeveloper(uint256 agentId, address developer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (developer == address(0)) revert ZeroAddress();
        address previous = _developers[agentId];
        if (previous == address(0)) revert AgentNotRegistered(agentId);
        _developers[agentId] = developer;
        emit DeveloperSet(agentId, previous, developer);
    }

    /// @notice Price per run of `agentId` in `token` (0 stops sales in that token). Existing
    /// payments keep the price they were bought at.
    function setPrice(uint256 agentId, address token, uint256 price) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_developers[agentId] == address(0)) revert AgentNotRegistered(agentId);
        if (!_tokens[token].allowed) revert TokenNotAllowed(token);
        if (price > type(uint96).max) revert PriceTooLarge(price);
        _prices[agentId][token] = price;
        emit PriceSet(agentId, token, price);
    }

    /// @notice Allow or stop purchases in `token`. Payments already made in a token that is later
    /// disallowed still settle and reclaim normally.
    function setTokenAllowed(address token, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        TokenConfig memory config = _tokens[token];
        if (!config.known) {
            if (token.code.length == 0) revert NotAContract(token);
            uint16 index = _tokenCount;
            if (index == type(uint16).max) revert TooManyTokens();
            config = TokenConfig({known: true, allowed: false, index: index});
            _tokenAt[index] = token;
            _tokenCount = index + 1;
        }
        config.allowed = allowed;
        _tokens[token] = config;
        emit TokenAllowed(token, config.index, allowed);
    }

    /// @notice Platform fee for future purchases, in basis points (at most 3,000 = 30%).
    function setPlatformFee(uint16 feeBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (feeBps > MAX_FEE_BPS) revert FeeTooHigh(feeBps, MAX_FEE_BPS);
        emit PlatformFeeSet(platformFeeBps, feeBps);
        platformFeeBps = feeBps;
    }

    function setFeeRecipient(address recipient) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (recipient == address(0)) revert ZeroAddress();
        emit FeeRecipientSet(feeRecipient, recipient);
        feeRecipient = recipient;
    }

    /// @notice Stop purchases and releases. Refunds and reclaims keep working.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    // ------------------------------------------------------------------ internals

    /// @dev What a settlement pays, per run, and to whom.
    struct Settlement {
        address buyer;
        address payee; // the developer on release, the buyer on refund
        uint256 agentId;
        uint16 tokenIndex;
        uint256 net; // per run: the developer's share, or the buyer's refund
        uint256 fee; // per run: the platform fee (release only)
    }

    function _settleOne(uint256 paymentId, bytes32 runRef, address holder, bool isRelease) private {
        Settlement memory st = _debit(paymentId, 1, isRelease);
        _markSettled(paymentId, runRef, st, isRelease);
        _payout(st, 1, holder);
    }

    function _settleBatch(uint256[] calldata paymentIds, bytes32[] calldata runRefs, bool isRelease) private {
        uint256 n = runRefs.length;
        if (n == 0) revert EmptyBatch();
        if (paymentIds.length != n) revert LengthMismatch(paymentIds.length, n);
        uint256 start;
        while (start < n) {
            uint256 paymentId = paymentIds[start];
            uint256 end = start + 1;
            while (end < n && paymentIds[end] == paymentId) ++end;
            // Runs of one payment: checks and all state changes, then one burn and the transfers.
            Settlement memory st = _debit(paymentId, end - start, isRelease);
            for (uint256 i = start; i < end; ++i) {
                _markSettled(paymentId, runRefs[i], st, isRelease);
            }
            _payout(st, end - start, address(0));
            start = end;
        }
    }

    /// @dev Checks and the `unsettled` update for `count` runs of one payment.
    function _debit(uint256 paymentId, uint256 count, bool isRelease) private returns (Settlement memory st) {
        Payment memory p = _payments[paymentId];
        if (p.buyer == address(0)) revert UnknownPayment(paymentId);
        if (count > p.unsettled) revert InsufficientUnsettledRuns(paymentId, count, p.unsettled);
        if (isRelease && block.timestamp >= p.expiresAt) revert PaymentExpired(paymentId, p.expiresAt);
        unchecked {
            _payments[paymentId].unsettled = p.unsettled - uint32(count); // count <= unsettled
        }
        st.buyer = p.buyer;
        st.agentId = p.agentId;
        st.tokenIndex = p.tokenIndex;
        if (isRelease) {
            st.payee = _developers[p.agentId];
            st.fee = (uint256(p.price) * p.feeBps) / BPS;
        } else {
            st.payee = p.buyer;
        }
        st.net = p.price - st.fee;
    }

    /// @dev Record `runRef` as settled (once ever) and emit its event.
    function _markSettled(uint256 paymentId, bytes32 runRef, Settlement memory st, bool isRelease) private {
        if (runRef == bytes32(0)) revert InvalidRunRef();
        // word = runRef / 255, bit = 1 << (runRef % 255): never the sentinel bit 255. In assembly
        // because Solidity's checked division by a constant costs ~100 gas more per run.
        uint256 word;
        uint256 bit;
        assembly ("memory-safe") {
            word := div(runRef, RUN_REFS_PER_WORD)
            bit := shl(mod(runRef, RUN_REFS_PER_WORD), 1)
        }
        uint256 bits = _settledRuns[word];
        if (bits & bit != 0) revert RunAlreadySettled(runRef);
        _settledRuns[word] = bits | bit;
        if (isRelease) emit RunReleased(paymentId, runRef, st.payee, st.net, st.fee);
        else emit RunRefunded(paymentId, runRef, st.payee, st.net);
    }

    /// @dev Interactions: burn `count` units, then pay the payee and the fee recipient.
    function _payout(Settlement memory st, uint256 count, address holder) private {
        entitlements.burn(holder == address(0) ? st.buyer : holder, st.agentId, count);
        address token = _token(st.tokenIndex);
        _send(token, st.payee, st.net * count);
        if (st.fee != 0) _send(token, feeRecipient, st.fee * count);
    }

    /// @dev Index 0 is always native ETH; skipping its lookup saves a cold SLOAD per ETH settlement.
    function _token(uint16 index) private view returns (address) {
        return index == 0 ? NATIVE_TOKEN : _tokenAt[index];
    }

    function _send(address token, address to, uint256 amount) private {
        if (token == NATIVE_TOKEN) {
            bool ok;
            // Forward all gas but copy no return data (a receiver cannot make us pay for a large one).
            assembly ("memory-safe") {
                ok := call(gas(), to, amount, 0, 0, 0, 0)
            }
            if (!ok) revert EthTransferFailed(to, amount);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }
}
