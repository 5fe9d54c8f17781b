"""HTTP clients of other services: none. The aoi service calls no peer; the others call it (through
shared.peers.AoiClient) for the geometry and facts of a stored AOI."""
