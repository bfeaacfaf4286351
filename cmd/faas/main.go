// Command faas gives developers serverless functions on their own machine.
package main

import (
	"os"

	"github.com/faasdev/faas/pkg/app"
	// The fast path of `faas invoke NAME`: its C half runs before main, and
	// before the Go runtime starts, and hands a warm call to the agent.
	_ "github.com/faasdev/faas/pkg/fastinvoke"
)

func main() {
	os.Exit(app.Main(os.Args[1:]))
}
