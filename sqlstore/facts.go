package sqlstore

import "sync"

// factCacheSize bounds each factCache.
const factCacheSize = 1 << 16

// factCache keeps facts that never change once written, such as the
// building a device or a grant belongs to, so that a hot path need not
// read them again. It only saves reads: the writes that use a fact check
// the rows themselves. Past factCacheSize entries it starts afresh.
type factCache[V any] struct {
	mu sync.Mutex
	m  map[string]V
}

func (c *factCache[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	return v, ok
}

func (c *factCache[V]) put(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= factCacheSize {
		c.m = make(map[string]V)
	}
	c.m[key] = v
}

func (c *factCache[V]) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

// grantFact is what never changes of a grant: its building and when it was
// issued (µs).
type grantFact struct {
	buildingID string
	issued     int64
}
