// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title RFC 6962 / RFC 9162 Merkle trees with SHA-256, as the sidechain builds them.
/// @notice leaf = sha256(0x00 || data), node = sha256(0x01 || left || right); a proof is the
/// audit path of the leaf at `index` in a tree of `size` leaves (RFC 9162, 2.1.3.2).
library Merkle {
    function leafHash(bytes memory data) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x00), data));
    }

    function nodeHash(bytes32 left, bytes32 right) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x01), left, right));
    }

    function verify(
        bytes32 leaf,
        uint256 index,
        uint256 size,
        bytes32[] calldata path,
        bytes32 root
    ) internal pure returns (bool) {
        if (index >= size) return false;
        uint256 fn = index;
        uint256 sn = size - 1;
        bytes32 r = leaf;
        for (uint256 i = 0; i < path.length; i++) {
            if (sn == 0) return false;
            if (fn & 1 == 1 || fn == sn) {
                r = nodeHash(path[i], r);
                if (fn & 1 == 0) {
                    while (fn & 1 == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                r = nodeHash(r, path[i]);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && r == root;
    }
}
