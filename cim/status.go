package cim

import (
	"errors"
	"fmt"
)

// Status is a CIM status code as DSP0200 defines them (1 to 28); 0 is success.
type Status int

// The CIM status codes.
const (
	StatusOK                           Status = 0
	ErrFailed                          Status = 1
	ErrAccessDenied                    Status = 2
	ErrInvalidNamespace                Status = 3
	ErrInvalidParameter                Status = 4
	ErrInvalidClass                    Status = 5
	ErrNotFound                        Status = 6
	ErrNotSupported                    Status = 7
	ErrClassHasChildren                Status = 8
	ErrClassHasInstances               Status = 9
	ErrInvalidSuperclass               Status = 10
	ErrAlreadyExists                   Status = 11
	ErrNoSuchProperty                  Status = 12
	ErrTypeMismatch                    Status = 13
	ErrQueryLanguageNotSupported       Status = 14
	ErrInvalidQuery                    Status = 15
	ErrMethodNotAvailable              Status = 16
	ErrMethodNotFound                  Status = 17
	ErrNamespaceNotEmpty               Status = 20
	ErrInvalidEnumerationContext       Status = 21
	ErrInvalidOperationTimeout         Status = 22
	ErrPullHasBeenAbandoned            Status = 23
	ErrPullCannotBeAbandoned           Status = 24
	ErrFilteredEnumerationNotSupported Status = 25
	ErrContinuationOnErrorNotSupported Status = 26
	ErrServerLimitsExceeded            Status = 27
	ErrServerIsShuttingDown            Status = 28
)

var statusNames = map[Status]string{
	StatusOK:                           "CIM_ERR_OK",
	ErrFailed:                          "CIM_ERR_FAILED",
	ErrAccessDenied:                    "CIM_ERR_ACCESS_DENIED",
	ErrInvalidNamespace:                "CIM_ERR_INVALID_NAMESPACE",
	ErrInvalidParameter:                "CIM_ERR_INVALID_PARAMETER",
	ErrInvalidClass:                    "CIM_ERR_INVALID_CLASS",
	ErrNotFound:                        "CIM_ERR_NOT_FOUND",
	ErrNotSupported:                    "CIM_ERR_NOT_SUPPORTED",
	ErrClassHasChildren:                "CIM_ERR_CLASS_HAS_CHILDREN",
	ErrClassHasInstances:               "CIM_ERR_CLASS_HAS_INSTANCES",
	ErrInvalidSuperclass:               "CIM_ERR_INVALID_SUPERCLASS",
	ErrAlreadyExists:                   "CIM_ERR_ALREADY_EXISTS",
	ErrNoSuchProperty:                  "CIM_ERR_NO_SUCH_PROPERTY",
	ErrTypeMismatch:                    "CIM_ERR_TYPE_MISMATCH",
	ErrQueryLanguageNotSupported:       "CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED",
	ErrInvalidQuery:                    "CIM_ERR_INVALID_QUERY",
	ErrMethodNotAvailable:              "CIM_ERR_METHOD_NOT_AVAILABLE",
	ErrMethodNotFound:                  "CIM_ERR_METHOD_NOT_FOUND",
	ErrNamespaceNotEmpty:               "CIM_ERR_NAMESPACE_NOT_EMPTY",
	ErrInvalidEnumerationContext:       "CIM_ERR_INVALID_ENUMERATION_CONTEXT",
	ErrInvalidOperationTimeout:         "CIM_ERR_INVALID_OPERATION_TIMEOUT",
	ErrPullHasBeenAbandoned:            "CIM_ERR_PULL_HAS_BEEN_ABANDONED",
	ErrPullCannotBeAbandoned:           "CIM_ERR_PULL_CANNOT_BE_ABANDONED",
	ErrFilteredEnumerationNotSupported: "CIM_ERR_FILTERED_ENUMERATION_NOT_SUPPORTED",
	ErrContinuationOnErrorNotSupported: "CIM_ERR_CONTINUATION_ON_ERROR_NOT_SUPPORTED",
	ErrServerLimitsExceeded:            "CIM_ERR_SERVER_LIMITS_EXCEEDED",
	ErrServerIsShuttingDown:            "CIM_ERR_SERVER_IS_SHUTTING_DOWN",
}

// String returns the DSP0200 name of the code, such as CIM_ERR_INVALID_CLASS.
func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("CIM_ERR_%d", int(s))
}

// Error is the error every cimsess operation returns: a CIM status code and
// a description for people. Use [errors.As] to get at it, or [CodeOf].
type Error struct {
	Code        Status
	Description string
}

// Error formats the error as "CIM_ERR_NAME: description".
func (e *Error) Error() string {
	if e.Description == "" {
		return e.Code.String()
	}
	return e.Code.String() + ": " + e.Description
}

// Is reports whether target is a *Error with the same code, so that
// errors.Is(err, &cim.Error{Code: cim.ErrNotFound}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Description == "" || t.Description == e.Description)
}

// Errorf returns a *Error with the code and a formatted description,
// each argument clipped as Clipf does.
func Errorf(code Status, format string, args ...any) *Error {
	return &Error{Code: code, Description: Clipf(format, args...)}
}

// Wrap turns any error into a *Error: a *Error in its chain is returned
// as it is, anything else becomes code with err's text as description.
func Wrap(code Status, err error) *Error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) {
		return ce
	}
	return &Error{Code: code, Description: err.Error()}
}

// CodeOf returns the CIM status code of err: StatusOK for nil, the code of
// a *Error in its chain, and ErrFailed for anything else.
func CodeOf(err error) Status {
	if err == nil {
		return StatusOK
	}
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Code
	}
	return ErrFailed
}
