"""A local multi-node dev network: layout on disk (`layout`), node processes (`processes`),
what `devnet up` prints once it is up (`banner`) and while it runs (`live`), the
docker-compose file for the default devnet (`compose`) and its healthchecks (`probe`, stdlib
only), free loopback ports for it (`ports`) and a devnet in a temporary directory for
`ccoin bench` and tools (`temporary`). Where the processes run (one machine, containers,
separate hosts) is `layout.Placement`."""
