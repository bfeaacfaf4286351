//go:build cgo

package fastinvoke

// The client is C (client.c): it runs before the Go runtime starts.

/*
#cgo CFLAGS: -O2 -Wall -Wextra -Wno-unused-parameter
#include <stdlib.h>
#include "protocol.h"
static const char *fi_magic(void) { return FI_MAGIC; }
static const char *fi_prefix(void) { return FI_SOCKET_PREFIX; }
static const char *fi_spare(void) { return FI_SPARE_SOCKET; }
*/
import "C"

import "unsafe"

// cSpareSocket is the spare's socket name as client.c knows it.
func cSpareSocket() string { return C.GoString(C.fi_spare()) }

// cProtocol is the protocol's words as client.c knows them, for the test
// that checks they are protocol.go's.
func cProtocol() (magic, prefix string, maxBody, maxName int, accept, decline byte, interrupt string, signal int) {
	return C.GoString(C.fi_magic()), C.GoString(C.fi_prefix()), int(C.FI_MAX_BODY), int(C.FI_MAX_NAME),
		byte(C.FI_ACCEPT), byte(C.FI_DECLINE), C.FI_INTERRUPT, int(C.FI_SIGNAL)
}

// cFunction is client.c's judgement of a command line (without the
// program's name), for the test that checks it is Function's.
func cFunction(args []string) (string, bool) {
	argv := make([]*C.char, len(args)+1)
	argv[0] = C.CString("faas")
	for i, a := range args {
		argv[i+1] = C.CString(a)
	}
	defer func() {
		for _, p := range argv {
			C.free(unsafe.Pointer(p))
		}
	}()
	// C memory for the array itself: cgo forbids passing Go memory that
	// holds pointers to C.
	arr := (**C.char)(C.malloc(C.size_t(len(argv)) * C.size_t(unsafe.Sizeof(argv[0]))))
	defer C.free(unsafe.Pointer(arr))
	copy(unsafe.Slice(arr, len(argv)), argv)
	name := C.fi_name(C.int(len(argv)), arr)
	if name == nil {
		return "", false
	}
	return C.GoString(name), true
}
