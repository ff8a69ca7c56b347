// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Merkle} from "./Merkle.sol";

/// @notice A block leaf and its audit path under anchored range `rangeIndex`: what
/// `Anchor.blockAnchored` checks, as `Bridge.withdraw` and `RetirementRegistry.record` take it.
struct BlockProof {
    uint256 rangeIndex;
    uint64 height;
    bytes32 blockHash;
    bytes32 withdrawalRoot;
    bytes32 retirementRoot;
    bytes32[] path; // the block leaf in the anchored range
}

/// @title Finalized sidechain heights, anchored by the sidechain's delegates.
/// @notice Holds the current delegate set (bridge-key addresses, sorted, and its set id). An
/// anchor covers the next contiguous range of finalized sidechain heights and commits the
/// Merkle root over its per-block leaves (height, block hash, withdrawalRoot, retirementRoot),
/// so one anchor commits both of a block's roots. It is accepted
/// only with at least floor(2n/3)+1 distinct signatures of the current set, sorted by signer,
/// over a digest with a domain tag, block.chainid, this contract's address, the sidechain's
/// network id, the set id and the range. A new set is accepted only when the current one
/// signs it. There is no admin: nobody else can set roots or sets.
contract Anchor {
    bytes32 public constant ANCHOR_TAG = keccak256("CCOIN-ANCHOR-V1");
    bytes32 public constant SET_TAG = keccak256("CCOIN-ANCHOR-SET-V1");
    uint256 public constant MAX_SET = 101;
    uint256 private constant HALF_ORDER =
        0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    struct Range {
        uint64 fromHeight;
        uint64 toHeight;
        bytes32 root;
    }

    bytes32 public immutable networkId;
    uint64 public setId;
    uint64 public nextHeight;
    address[] private _set;
    mapping(address => bool) public isMember;
    Range[] private _ranges;

    event Anchored(uint256 indexed index, uint64 fromHeight, uint64 toHeight, bytes32 root);
    event SetChanged(uint64 indexed setId, address[] members);

    constructor(bytes32 networkId_, address[] memory initialMembers, uint64 firstHeight) {
        networkId = networkId_;
        nextHeight = firstHeight;
        _install(initialMembers);
        emit SetChanged(0, initialMembers);
    }

    function members() external view returns (address[] memory) {
        return _set;
    }

    function quorum() public view returns (uint256) {
        return (2 * _set.length) / 3 + 1;
    }

    function rangeCount() external view returns (uint256) {
        return _ranges.length;
    }

    function range(uint256 index) external view returns (Range memory) {
        return _ranges[index];
    }

    function anchorDigest(uint64 fromHeight, uint64 toHeight, bytes32 root)
        public
        view
        returns (bytes32)
    {
        return keccak256(
            abi.encode(
                ANCHOR_TAG, block.chainid, address(this), networkId, setId, fromHeight, toHeight, root
            )
        );
    }

    function setDigest(address[] calldata newMembers) public view returns (bytes32) {
        return keccak256(
            abi.encode(SET_TAG, block.chainid, address(this), networkId, setId, newMembers)
        );
    }

    function submitAnchor(
        uint64 fromHeight,
        uint64 toHeight,
        bytes32 root,
        bytes[] calldata signatures
    ) external {
        require(root != bytes32(0), "Anchor: zero root");
        require(fromHeight == nextHeight, "Anchor: not the next range");
        require(toHeight >= fromHeight, "Anchor: empty range");
        _requireQuorum(anchorDigest(fromHeight, toHeight, root), signatures);
        _ranges.push(Range(fromHeight, toHeight, root));
        nextHeight = toHeight + 1;
        emit Anchored(_ranges.length - 1, fromHeight, toHeight, root);
    }

    function changeSet(address[] calldata newMembers, bytes[] calldata signatures) external {
        _requireQuorum(setDigest(newMembers), signatures);
        for (uint256 i = 0; i < _set.length; i++) {
            isMember[_set[i]] = false;
        }
        _install(newMembers);
        setId += 1;
        emit SetChanged(setId, newMembers);
    }

    /// @notice Whether the block leaf (height, blockHash, withdrawalRoot, retirementRoot) is in
    /// anchored range `index`, at its place (the height's offset in the range), by the given
    /// audit path.
    function blockAnchored(
        uint256 index,
        uint64 height,
        bytes32 blockHash,
        bytes32 withdrawalRoot,
        bytes32 retirementRoot,
        bytes32[] calldata path
    ) external view returns (bool) {
        if (index >= _ranges.length) return false;
        Range memory r = _ranges[index];
        if (height < r.fromHeight || height > r.toHeight) return false;
        bytes32 leaf =
            Merkle.leafHash(abi.encodePacked(height, blockHash, withdrawalRoot, retirementRoot));
        uint256 size = uint256(r.toHeight - r.fromHeight) + 1;
        return Merkle.verify(leaf, height - r.fromHeight, size, path, r.root);
    }

    function _install(address[] memory newMembers) private {
        require(newMembers.length > 0 && newMembers.length <= MAX_SET, "Anchor: set size");
        address previous = address(0);
        for (uint256 i = 0; i < newMembers.length; i++) {
            require(newMembers[i] > previous, "Anchor: set not sorted or has duplicates");
            isMember[newMembers[i]] = true;
            previous = newMembers[i];
        }
        _set = newMembers;
    }

    function _requireQuorum(bytes32 digest, bytes[] calldata signatures) private view {
        require(signatures.length >= quorum(), "Anchor: too few signatures");
        bytes32 signed = keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", digest));
        address previous = address(0);
        for (uint256 i = 0; i < signatures.length; i++) {
            address signer = _recover(signed, signatures[i]);
            require(signer > previous, "Anchor: signers not sorted or duplicated");
            require(isMember[signer], "Anchor: signer not in the current set");
            previous = signer;
        }
    }

    function _recover(bytes32 hash, bytes calldata signature) private pure returns (address) {
        require(signature.length == 65, "Anchor: bad signature length");
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        require(uint256(s) <= HALF_ORDER, "Anchor: malleable signature");
        require(v == 27 || v == 28, "Anchor: bad signature v");
        address signer = ecrecover(hash, v, r, s);
        require(signer != address(0), "Anchor: bad signature");
        return signer;
    }
}
