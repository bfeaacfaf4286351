// Command faas-agent is the faas a VM runs (Multipass, and QEMU as /init): `faas agent` only,
// built static (CGO_ENABLED=0), so that it runs whatever the guest's glibc.
// The provider installs it in the guest as /usr/local/bin/faas.
package main

import (
	"os"

	"github.com/faasdev/faas/pkg/cmd/agent/guest"
)

func main() {
	os.Exit(guest.Main(os.Args[1:]))
}
