// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Anchor, BlockProof} from "./Anchor.sol";
import {Merkle} from "./Merkle.sol";

/// @title Carbon retirements of the sidechain, recorded on BSC.
/// @notice `record` takes a proof that a retirement leaf (id, recordHash, quantity) is under a
/// block's retirementRoot, and that block's leaf under an anchored range, and records the
/// retirement once per id: anyone may submit it, nobody can record one the delegates did not
/// anchor, and nothing here can change or remove a record. There is no admin.
contract RetirementRegistry {
    struct Retirement {
        bytes32 id; // the retiring transaction's SHA-256 hash
        bytes32 recordHash; // SHA-256 of the retirement record's canonical bytes
        uint64 quantity;
        uint256 index; // the leaf's place among the block's retirements
        uint256 count; // the block's retirements
        bytes32[] path; // the retirement leaf under the block's retirementRoot
    }

    struct Recorded {
        bytes32 recordHash;
        uint64 quantity;
        uint64 height; // the sidechain block that retired it
        bool recorded;
    }

    Anchor public immutable anchor;
    mapping(bytes32 => Recorded) private _retirements;

    event RetirementRecorded(bytes32 indexed id, bytes32 recordHash, uint64 quantity, uint64 height);

    constructor(Anchor anchor_) {
        anchor = anchor_;
    }

    /// @notice Whether `r` is a retirement of an anchored sidechain block: its leaf under
    /// `blk.retirementRoot`, that block's leaf under anchored range `blk.rangeIndex`. A view:
    /// anyone can check a retirement certificate's proof without recording it.
    function verify(BlockProof calldata blk, Retirement calldata r) public view returns (bool) {
        // A block that retires nothing has a zero root, which no leaf can be under.
        if (blk.retirementRoot == bytes32(0)) return false;
        if (
            !anchor.blockAnchored(
                blk.rangeIndex, blk.height, blk.blockHash, blk.withdrawalRoot, blk.retirementRoot,
                blk.path
            )
        ) return false;
        bytes32 leaf = Merkle.leafHash(abi.encodePacked(r.id, r.recordHash, r.quantity));
        return Merkle.verify(leaf, r.index, r.count, r.path, blk.retirementRoot);
    }

    function record(BlockProof calldata blk, Retirement calldata r) external {
        require(!_retirements[r.id].recorded, "RetirementRegistry: already recorded");
        // A block that retires nothing has a zero root, which no leaf can be under.
        require(blk.retirementRoot != bytes32(0), "RetirementRegistry: the block retires nothing");
        require(
            anchor.blockAnchored(
                blk.rangeIndex, blk.height, blk.blockHash, blk.withdrawalRoot, blk.retirementRoot,
                blk.path
            ),
            "RetirementRegistry: block not anchored"
        );
        bytes32 leaf = Merkle.leafHash(abi.encodePacked(r.id, r.recordHash, r.quantity));
        require(
            Merkle.verify(leaf, r.index, r.count, r.path, blk.retirementRoot),
            "RetirementRegistry: retirement not in the block"
        );
        _retirements[r.id] = Recorded(r.recordHash, r.quantity, blk.height, true);
        emit RetirementRecorded(r.id, r.recordHash, r.quantity, blk.height);
    }

    function isRecorded(bytes32 id) external view returns (bool) {
        return _retirements[id].recorded;
    }

    /// @notice The recorded retirement `id`: its record hash, quantity and sidechain height.
    function retirement(bytes32 id)
        external
        view
        returns (bytes32 recordHash, uint64 quantity, uint64 height)
    {
        Recorded memory found = _retirements[id];
        require(found.recorded, "RetirementRegistry: not recorded");
        return (found.recordHash, found.quantity, found.height);
    }
}
