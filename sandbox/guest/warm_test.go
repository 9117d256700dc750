package guest

import (
	"context"
	"testing"
)

// TestWarmUp checks that the warm-up's throwaway world builds and that
// every message of it is answered without a protocol error, so that the
// warm-up exercises the paths a run takes rather than failing early.
func TestWarmUp(t *testing.T) {
	if err := warmUp(context.Background()); err != nil {
		t.Fatal(err)
	}
}
