// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Carbon Coin (C) on BNB Smart Chain: a BEP-20 token.
/// @notice 4 decimals, as on the sidechain (1 C = 10,000 base units). The whole supply is
/// minted once, to the deployer; there is no mint or burn afterwards, so C locked in the
/// Bridge plus C in circulation on BSC is constant.
contract CarbonCoin {
    string public constant name = "Carbon Coin";
    string public constant symbol = "C";
    uint8 public constant decimals = 4;

    uint256 public immutable totalSupply;
    address private immutable _owner;

    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    constructor(uint256 supply) {
        totalSupply = supply;
        _owner = msg.sender;
        balanceOf[msg.sender] = supply;
        emit Transfer(address(0), msg.sender, supply);
    }

    /// @notice BEP-20's owner: the deployer (it holds no power over the token).
    function getOwner() external view returns (address) {
        return _owner;
    }

    function transfer(address to, uint256 value) external returns (bool) {
        _move(msg.sender, to, value);
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            require(allowed >= value, "CarbonCoin: allowance too low");
            allowance[from][msg.sender] = allowed - value;
        }
        _move(from, to, value);
        return true;
    }

    function _move(address from, address to, uint256 value) private {
        require(to != address(0), "CarbonCoin: transfer to the zero address");
        uint256 held = balanceOf[from];
        require(held >= value, "CarbonCoin: balance too low");
        balanceOf[from] = held - value;
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }
}
