// Command faas gives developers serverless functions on their own machine.
package main

import (
	"os"

	"github.com/faasdev/faas/pkg/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:]))
}
