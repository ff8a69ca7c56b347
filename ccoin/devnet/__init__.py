"""A local multi-node dev network: layout on disk (`layout`), node processes (`processes`)
and the docker-compose file for the default devnet (`compose`)."""
