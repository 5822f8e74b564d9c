package bench

import "context"

func (e *env) large(ctx context.Context) error { return nil }
