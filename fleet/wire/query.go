package wire

// Query is a request on cimsess.q.<hosttoken> or cimsess.q.all: a WQL
// data query (SELECT, ASSOCIATORS OF, REFERENCES OF) for each host to run
// on itself.
type Query struct {
	// WQL is the query.
	WQL string `json:"wql"`
	// Hosts, when set, is a glob (path.Match) of the host names that
	// answer; the others stay silent.
	Hosts string `json:"hosts,omitempty"`
	// TimeoutMillis bounds the host's work on the query.
	TimeoutMillis int64 `json:"timeout_ms,omitempty"`
}

// Answer is one message of a host's answer to a [Query]. A large answer
// comes in several chunks, numbered from 0; the last has Last set and
// Total, the number of instances in every chunk.
type Answer struct {
	Host  string `json:"host"`
	Chunk int    `json:"chunk"`
	Last  bool   `json:"last,omitempty"`
	Total int    `json:"total,omitempty"`
	// Properties are the select list's properties (nil for SELECT *).
	Properties []string   `json:"properties,omitempty"`
	Instances  []Instance `json:"instances,omitempty"`
	// Error, when set, is the host's failure: a CIM status code and its
	// description.
	Error *AnswerError `json:"error,omitempty"`
}

// AnswerError is a host's failure to answer.
type AnswerError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// MaxChunkBytes is the size an agent keeps each chunk of an answer under.
const MaxChunkBytes = 256 << 10
