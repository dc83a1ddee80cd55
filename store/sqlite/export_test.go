package sqlite

import (
	"context"
	"fmt"
)

// MigrateDownTo takes the gateway's schema back to version (its Down sections), for tests of a
// migration's backfill.
func (s *Store) MigrateDownTo(ctx context.Context, version int64) error {
	p, err := s.goose()
	if err != nil {
		return err
	}
	if _, err := p.DownTo(ctx, version); err != nil {
		return fmt.Errorf("migrate down to %d: %w", version, err)
	}
	return nil
}
