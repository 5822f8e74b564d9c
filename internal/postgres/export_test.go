package postgres

// SetSearchHitLimit sets the size up to which a set of IDs is read
// exactly (searchCondition, idSetCondition) and returns the way back.
// Only tests that do not run in parallel may call it.
func SetSearchHitLimit(n int) (restore func()) {
	old := searchHitLimit
	searchHitLimit = n
	return func() { searchHitLimit = old }
}
