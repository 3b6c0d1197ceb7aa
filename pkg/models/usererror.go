package models

import "fmt"

// UserError is a mistake in what the user sent: a query, a setting, a resource request. Grafana shows it as a
// bad request, the user's to fix.
type UserError struct{ error }

func (e UserError) Unwrap() error { return e.error }

// NewUserError marks err as the user's mistake.
func NewUserError(err error) error { return UserError{err} }

// UserErrorf makes a UserError.
func UserErrorf(format string, args ...any) error { return UserError{fmt.Errorf(format, args...)} }
