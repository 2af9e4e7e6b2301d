package publish

// What the tests read of a sourceCache.

// stats reports how many documents the cache holds and their size.
func (c *sourceCache) stats() (entries, bytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len(), c.bytes
}

// waiting reports how many callers wait for the rendering of document k
// of generation gen.
func (c *sourceCache) waiting(k sourceKey, gen uint64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if fl := c.flights[flightKey{k, gen}]; fl != nil {
		return fl.waiters
	}
	return 0
}
