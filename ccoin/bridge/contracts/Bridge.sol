// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Anchor, BlockProof} from "./Anchor.sol";
import {Merkle} from "./Merkle.sol";

interface IBEP20 {
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

/// @title Moves C between BSC and the sidechain.
/// @notice `deposit` locks C here and emits a numbered event; the sidechain's delegates
/// attest it past the confirmations and credit the recipient there. `withdraw` releases C
/// on a proof that a withdrawal leaf is under a block's withdrawalRoot under an anchored
/// range, once per withdrawal id. The guardian can pause, and only pause.
contract Bridge {
    struct Withdrawal {
        bytes32 id;
        address recipient;
        uint64 amount;
        uint256 index; // the leaf's place among the block's withdrawals
        uint256 count; // the block's withdrawals
        bytes32[] path; // the withdrawal leaf under the block's withdrawalRoot
    }

    IBEP20 public immutable token;
    Anchor public immutable anchor;
    address public immutable guardian;
    bool public paused;
    uint64 public depositCount;
    mapping(bytes32 => bool) public withdrawn;
    /// The BSC block each deposit was made in, so relayers and attesters ask eth_getLogs
    /// about one block (public RPC endpoints bound the block range a log query may span).
    mapping(uint64 => uint256) public depositBlock;

    event Deposited(uint64 indexed nonce, address indexed from, bytes recipient, uint256 amount);
    event Withdrawn(bytes32 indexed id, address indexed recipient, uint256 amount);
    event Paused(address by);

    constructor(IBEP20 token_, Anchor anchor_, address guardian_) {
        token = token_;
        anchor = anchor_;
        guardian = guardian_;
    }

    /// @param recipient the sidechain address's 14 raw bytes: 12 bytes of body, then the
    /// first 2 bytes of sha256(body) as a checksum (checked, so a typo cannot lock C for good)
    function deposit(bytes calldata recipient, uint64 amount) external returns (uint64 nonce) {
        require(!paused, "Bridge: paused");
        require(recipient.length == 14, "Bridge: recipient is 14 bytes");
        require(
            bytes2(sha256(recipient[0:12])) == bytes2(recipient[12:14]),
            "Bridge: recipient checksum"
        );
        require(amount > 0, "Bridge: zero amount");
        require(token.transferFrom(msg.sender, address(this), amount), "Bridge: transfer failed");
        nonce = ++depositCount;
        depositBlock[nonce] = block.number;
        emit Deposited(nonce, msg.sender, recipient, amount);
    }

    function withdraw(BlockProof calldata blk, Withdrawal calldata w) external {
        require(!paused, "Bridge: paused");
        require(!withdrawn[w.id], "Bridge: already withdrawn");
        require(
            anchor.blockAnchored(
                blk.rangeIndex, blk.height, blk.blockHash, blk.withdrawalRoot, blk.retirementRoot,
                blk.path
            ),
            "Bridge: block not anchored"
        );
        bytes32 leaf = Merkle.leafHash(abi.encodePacked(w.id, w.recipient, w.amount));
        require(
            Merkle.verify(leaf, w.index, w.count, w.path, blk.withdrawalRoot),
            "Bridge: withdrawal not in the block"
        );
        withdrawn[w.id] = true;
        require(token.transfer(w.recipient, w.amount), "Bridge: transfer failed");
        emit Withdrawn(w.id, w.recipient, w.amount);
    }

    function pause() external {
        require(msg.sender == guardian, "Bridge: only the guardian");
        paused = true;
        emit Paused(msg.sender);
    }
}
