package faastype

// HTTPEvent is the event of an HTTP function's call: Lambda's function-URL
// payload, version 2.0, so that a handler written for a function URL runs
// unchanged. A job with trigger http has one as its payload; the agent
// reads it back to give a script the body on stdin and the request in CGI
// variables.
type HTTPEvent struct {
	Version        string `json:"version"`
	RouteKey       string `json:"routeKey"`
	RawPath        string `json:"rawPath"`
	RawQueryString string `json:"rawQueryString"`
	// Cookies are the Cookie header's, one a cookie; the header itself is
	// not in Headers, as in Lambda.
	Cookies []string `json:"cookies,omitempty"`
	// Headers are lower-cased, with repeated ones comma-joined.
	Headers map[string]string `json:"headers"`
	// QueryStringParameters has repeated parameters comma-joined.
	QueryStringParameters map[string]string  `json:"queryStringParameters,omitempty"`
	RequestContext        HTTPRequestContext `json:"requestContext"`
	// Body is the request's body: as it is when it is text, else in base64
	// with IsBase64Encoded.
	Body            string `json:"body,omitempty"`
	IsBase64Encoded bool   `json:"isBase64Encoded"`
}

// HTTPRequestContext is an HTTPEvent's requestContext.
type HTTPRequestContext struct {
	AccountID    string `json:"accountId"`
	APIID        string `json:"apiId"`
	DomainName   string `json:"domainName"`
	DomainPrefix string `json:"domainPrefix"`
	HTTP         struct {
		Method    string `json:"method"`
		Path      string `json:"path"`
		Protocol  string `json:"protocol"`
		SourceIP  string `json:"sourceIp"`
		UserAgent string `json:"userAgent"`
	} `json:"http"`
	// RequestID is the job's id.
	RequestID string `json:"requestId"`
	RouteKey  string `json:"routeKey"`
	Stage     string `json:"stage"`
	Time      string `json:"time"`
	TimeEpoch int64  `json:"timeEpoch"`
}

// HTTPEventVersion is the payload format HTTPEvent follows.
const HTTPEventVersion = "2.0"
