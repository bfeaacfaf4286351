// Command multipass is the stand-in Multipass client used by faas tests.
// See internal/fakemultipass/README.md.
package main

import (
	"os"

	"github.com/faasdev/faas/internal/fakemultipass"
)

func main() { os.Exit(fakemultipass.Main()) }
