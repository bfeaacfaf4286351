//go:build cgo

package fastinvoke

// The client is C (client.c): it runs before the Go runtime starts.

/*
#cgo CFLAGS: -O2 -Wall -Wextra -Wno-unused-parameter
#include "protocol.h"
static const char *fi_magic(void) { return FI_MAGIC; }
static const char *fi_prefix(void) { return FI_SOCKET_PREFIX; }
*/
import "C"

// cProtocol is the protocol's words as client.c knows them, for the test
// that checks they are protocol.go's.
func cProtocol() (magic, prefix string, maxBody, maxName int, accept, decline byte, interrupt string) {
	return C.GoString(C.fi_magic()), C.GoString(C.fi_prefix()), int(C.FI_MAX_BODY), int(C.FI_MAX_NAME),
		byte(C.FI_ACCEPT), byte(C.FI_DECLINE), C.FI_INTERRUPT
}
