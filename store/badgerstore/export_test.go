package badgerstore

// PendingRecords reports how many records wait in the commit log's current group, for tests that must know a
// write has reached the log.
func (s *Store) PendingRecords() int {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return len(s.log.cur.recs)
}
