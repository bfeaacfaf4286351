// The words of the fast path of `faas invoke`, shared by client.c and, as
// constants checked against these by a test, protocol.go.
#define FI_MAGIC "FAASFI01"
// FI_MAX_BODY bounds a request: the command line and the environment.
#define FI_MAX_BODY (8 << 20)
// FI_MAX_NAME is pkg/function.MaxNameLength.
#define FI_MAX_NAME 40
#define FI_SOCKET_PREFIX "invoke-"
// FI_SPARE_SOCKET is where the home's spare agent takes the calls of
// functions with no warm agent (run/spare-invoke.sock).
#define FI_SPARE_SOCKET "spare-invoke"
#define FI_ACCEPT 'A'
#define FI_DECLINE 'D'
#define FI_INTERRUPT "i"
// An exit code of FI_SIGNAL + N means: die of signal N (as a full faas
// dies of SIGPIPE when its stdout is a closed pipe).
#define FI_SIGNAL 256

// fi_name is the function `faas invoke ...` (argv) names when the fast
// path takes the command line, NULL when it does not.
const char *fi_name(int argc, char **argv);
