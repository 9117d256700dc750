package agent

import (
	"context"
	"errors"
	"fmt"
	neturl "net/url"
)

// Checker is a Model that can tell, with one cheap request (listing or
// looking up models, never a completion), whether it can be used at all:
// its credentials are there, its endpoint answers and accepts them. The
// CLI checks every API model this way before the first run, so a missing
// key or a wrong URL fails at once instead of in every run.
//
// Check returns nil when the model looks usable. Its error names the URL
// it tried and says what went wrong in one line. An error wrapping
// ErrNotListed is a warning: the endpoint answered but does not list the
// model (some servers serve any name, or list another one).
type Checker interface {
	Check(ctx context.Context) error
}

// ErrNotListed reports an endpoint that answered the check but does not
// list the model.
var ErrNotListed = errors.New("model not listed")

// CheckError names the request a model check made (method and URL) in its
// error, unless the error names it already: a failed connection's
// *url.Error reads `Get "URL": ...`.
func CheckError(method, url string, err error) error {
	var ue *neturl.Error
	if errors.As(err, &ue) && ue.URL == url {
		return err
	}
	return fmt.Errorf("%s %s: %w", method, url, err)
}
