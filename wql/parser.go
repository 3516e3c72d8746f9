package wql

import (
	"math"
	"strconv"
	"strings"

	"github.com/cimsess/cimsess/cim"
)

// Parse parses one WQL statement. Its errors are *cim.Error with code
// CIM_ERR_INVALID_QUERY (CIM_ERR_NOT_SUPPORTED for GROUP WITHIN and
// HAVING) and a description that shows where the query went wrong.
func Parse(query string) (Statement, error) {
	p := &parser{lx: lexer{src: query}}
	st, perr := p.statement()
	if perr != nil {
		return nil, perr.format(query)
	}
	return st, nil
}

// maxDepth bounds the nesting of parentheses and NOTs, so that hostile
// input cannot exhaust the stack.
const maxDepth = 200

type parser struct {
	lx    lexer
	tok   token
	depth int
}

// advance moves to the next token.
func (p *parser) advance() *posError {
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

// isWord reports whether the current token is the keyword kw.
func (p *parser) isWord(kw string) bool {
	return p.tok.kind == tokWord && strings.EqualFold(p.tok.text, kw)
}

func (p *parser) expected(what string) *posError {
	return errAt(p.tok.pos, "expected %s, found %s", what, p.tok.describe())
}

// expectWord consumes the keyword kw.
func (p *parser) expectWord(kw string) *posError {
	if !p.isWord(kw) {
		return p.expected(kw)
	}
	return p.advance()
}

func (p *parser) statement() (Statement, *posError) {
	if err := p.advance(); err != nil {
		return nil, err
	}
	switch {
	case p.isWord("SELECT"):
		return p.selectStmt()
	case p.isWord("ASSOCIATORS"):
		return p.assocStmt(true)
	case p.isWord("REFERENCES"):
		return p.assocStmt(false)
	}
	return nil, p.expected("SELECT, ASSOCIATORS OF or REFERENCES OF")
}

// eventClasses maps the lower-case event class names to their spelling.
var eventClasses = map[string]string{
	"__instancecreationevent":     InstanceCreationEvent,
	"__instancedeletionevent":     InstanceDeletionEvent,
	"__instancemodificationevent": InstanceModificationEvent,
	"__instanceoperationevent":    InstanceOperationEvent,
}

func (p *parser) selectStmt() (Statement, *posError) {
	if err := p.advance(); err != nil {
		return nil, err
	}
	star := false
	var props []PropRef
	if p.tok.kind == tokStar {
		star = true
		if err := p.advance(); err != nil {
			return nil, err
		}
	} else {
		for {
			ref, err := p.propRef("a property name or '*'")
			if err != nil {
				return nil, err
			}
			props = append(props, ref)
			if p.tok.kind != tokComma {
				break
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
	}
	if err := p.expectWord("FROM"); err != nil {
		return nil, err
	}
	if p.tok.kind != tokWord || isKeyword(p.tok.text) {
		return nil, p.expected("a class name")
	}
	class, classPos := p.tok.text, Pos(p.tok.pos)
	if err := p.advance(); err != nil {
		return nil, err
	}
	evClass, isEvent := eventClasses[strings.ToLower(class)]
	if !isEvent && strings.HasPrefix(class, "__") && strings.HasSuffix(strings.ToLower(class), "event") {
		return nil, errCode(cim.ErrNotSupported, int(classPos),
			"event class %s is not supported: use __InstanceCreationEvent, __InstanceDeletionEvent, __InstanceModificationEvent or __InstanceOperationEvent", class)
	}
	var within float64
	if p.isWord("WITHIN") {
		wpos := p.tok.pos
		if !isEvent {
			return nil, errAt(wpos, "WITHIN belongs to event queries (SELECT * FROM __InstanceCreationEvent WITHIN …)")
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tokNumber {
			return nil, p.expected("the polling interval in seconds after WITHIN")
		}
		f, err := strconv.ParseFloat(p.tok.text, 64)
		if strings.HasPrefix(p.tok.text, "0x") || strings.HasPrefix(p.tok.text, "0X") {
			var u uint64
			u, err = strconv.ParseUint(p.tok.text[2:], 16, 64)
			f = float64(u)
		}
		if err != nil || f <= 0 || math.IsInf(f, 0) || f > 1e9 {
			return nil, errAt(p.tok.pos, "WITHIN needs a positive number of seconds, not %s", p.tok.text)
		}
		within = f
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	var where Expr
	if p.isWord("WHERE") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		var err *posError
		if where, err = p.orExpr(); err != nil {
			return nil, err
		}
	}
	if p.isWord("GROUP") {
		return nil, errCode(cim.ErrNotSupported, p.tok.pos, "GROUP WITHIN is not supported: ask for each event")
	}
	if p.isWord("HAVING") {
		return nil, errCode(cim.ErrNotSupported, p.tok.pos, "HAVING is not supported (it needs GROUP WITHIN)")
	}
	if p.isWord("WITHIN") {
		return nil, errAt(p.tok.pos, "WITHIN goes before WHERE")
	}
	if p.tok.kind != tokEOF {
		if where == nil && !isEvent {
			return nil, p.expected("WHERE or the end of the query")
		}
		if where == nil {
			return nil, p.expected("WITHIN, WHERE or the end of the query")
		}
		return nil, p.expected("AND, OR or the end of the query")
	}
	if !isEvent {
		return &Select{Star: star, Properties: props, Class: class, ClassPos: classPos, Where: where, text: p.lx.src}, nil
	}
	q := &EventQuery{Star: star, Properties: props, Class: evClass, ClassPos: classPos, Within: within, Where: where, text: p.lx.src}
	if c, _ := targetIsa(where); c == "" {
		return nil, errAt(p.tok.pos, "an event query needs WHERE TargetInstance ISA 'Class' (joined to the rest with AND)")
	}
	return q, nil
}

// propRef reads Name or Object.Name.
func (p *parser) propRef(what string) (PropRef, *posError) {
	if p.tok.kind != tokWord || isKeyword(p.tok.text) {
		return PropRef{}, p.expected(what)
	}
	ref := PropRef{Name: p.tok.text, Pos: Pos(p.tok.pos)}
	if err := p.advance(); err != nil {
		return ref, err
	}
	if p.tok.kind == tokDot {
		if err := p.advance(); err != nil {
			return ref, err
		}
		if p.tok.kind != tokWord || isKeyword(p.tok.text) {
			return ref, p.expected("a property name after '.'")
		}
		ref.Object, ref.Name = ref.Name, p.tok.text
		if err := p.advance(); err != nil {
			return ref, err
		}
		if p.tok.kind == tokDot {
			return ref, errAt(p.tok.pos, "only one level of embedded object is supported (Object.Property)")
		}
	}
	return ref, nil
}

func (p *parser) orExpr() (Expr, *posError) {
	left, err := p.andExpr()
	if err != nil {
		return nil, err
	}
	for p.isWord("OR") {
		pos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.andExpr()
		if err != nil {
			return nil, err
		}
		left = &Binary{Op: Or, Left: left, Right: right, Pos: Pos(pos)}
	}
	return left, nil
}

func (p *parser) andExpr() (Expr, *posError) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.isWord("AND") {
		pos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		left = &Binary{Op: And, Left: left, Right: right, Pos: Pos(pos)}
	}
	return left, nil
}

func (p *parser) unary() (Expr, *posError) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, errAt(p.tok.pos, "the condition nests deeper than %d levels", maxDepth)
	}
	if p.isWord("NOT") {
		pos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Not{X: x, Pos: Pos(pos)}, nil
	}
	if p.tok.kind == tokLParen {
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.orExpr()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokRParen {
			return nil, p.expected("AND, OR or ')'")
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		return x, nil
	}
	return p.predicate()
}

// isConstStart reports whether the current token begins a constant.
func (p *parser) isConstStart() bool {
	switch p.tok.kind {
	case tokString, tokNumber, tokMinus:
		return true
	case tokWord:
		return p.isWord("NULL") || p.isWord("TRUE") || p.isWord("FALSE")
	}
	return false
}

// constant reads a string, a (negative) number, TRUE, FALSE or NULL.
func (p *parser) constant() (Literal, *posError) {
	lit := Literal{Pos: Pos(p.tok.pos)}
	switch p.tok.kind {
	case tokString:
		lit.Value = p.tok.text
	case tokWord:
		switch {
		case p.isWord("NULL"):
			lit.Value = nil
		case p.isWord("TRUE"):
			lit.Value = true
		case p.isWord("FALSE"):
			lit.Value = false
		default:
			return lit, p.expected("a constant")
		}
	case tokMinus:
		if err := p.advance(); err != nil {
			return lit, err
		}
		if p.tok.kind != tokNumber {
			return lit, p.expected("a number after '-'")
		}
		v, err := parseNumber(p.tok.text, true)
		if err != "" {
			return lit, errAt(int(lit.Pos), "%s", err)
		}
		lit.Value = v
	case tokNumber:
		v, err := parseNumber(p.tok.text, false)
		if err != "" {
			return lit, errAt(p.tok.pos, "%s", err)
		}
		lit.Value = v
	default:
		return lit, p.expected("a constant")
	}
	return lit, p.advance()
}

// parseNumber turns a number token into int64, uint64 or float64.
func parseNumber(text string, neg bool) (any, string) {
	if strings.ContainsAny(text, ".eE") && !strings.HasPrefix(text, "0x") && !strings.HasPrefix(text, "0X") {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, "number " + text + " is out of range"
		}
		if neg {
			f = -f
		}
		return f, ""
	}
	var u uint64
	var err error
	if strings.HasPrefix(text, "0x") || strings.HasPrefix(text, "0X") {
		u, err = strconv.ParseUint(text[2:], 16, 64)
	} else {
		u, err = strconv.ParseUint(text, 10, 64)
	}
	if err != nil {
		return nil, "integer " + text + " is out of range"
	}
	if neg {
		if u > 1<<63 {
			return nil, "integer -" + text + " is out of range"
		}
		return -int64(u), "" // -(1<<63) wraps to MinInt64, as it should
	}
	if u > math.MaxInt64 {
		return u, ""
	}
	return int64(u), ""
}

// compareOp maps an operator token to its CompareOp.
func compareOp(text string) CompareOp {
	switch text {
	case "=":
		return EQ
	case "<>", "!=":
		return NE
	case "<":
		return LT
	case ">":
		return GT
	case "<=":
		return LE
	case ">=":
		return GE
	}
	return 0
}

func (p *parser) predicate() (Expr, *posError) {
	start := p.tok.pos
	if p.isConstStart() {
		lit, err := p.constant()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokOp {
			return nil, p.expected("a comparison operator after the constant")
		}
		op := compareOp(p.tok.text)
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.isConstStart() {
			return nil, errAt(p.tok.pos, "expected a property name, found %s: one side of a comparison must be a property", p.tok.describe())
		}
		ref, err := p.propRef("a property name")
		if err != nil {
			return nil, err
		}
		return &Comparison{Prop: ref, Op: op, Value: lit, ConstFirst: true, Pos: Pos(start)}, nil
	}
	ref, err := p.propRef("a property name")
	if err != nil {
		return nil, err
	}
	switch {
	case p.tok.kind == tokOp:
		op := compareOp(p.tok.text)
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == tokWord && !isKeyword(p.tok.text) {
			return nil, errAt(p.tok.pos, "expected a constant, found %s: WQL compares a property with a constant, not with another property (quote strings)", p.tok.describe())
		}
		lit, err := p.constant()
		if err != nil {
			return nil, err
		}
		return &Comparison{Prop: ref, Op: op, Value: lit, Pos: Pos(start)}, nil
	case p.isWord("IS"):
		if err := p.advance(); err != nil {
			return nil, err
		}
		not := false
		if p.isWord("NOT") {
			not = true
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
		if !p.isWord("NULL") {
			return nil, p.expected("NULL after IS")
		}
		return &IsNull{Prop: ref, Not: not, Pos: Pos(start)}, p.advance()
	case p.isWord("ISA"):
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tokString && (p.tok.kind != tokWord || isKeyword(p.tok.text)) {
			return nil, p.expected("a class name in quotes after ISA")
		}
		class := p.tok.text
		if !validName(class) {
			return nil, errAt(p.tok.pos, "%s is not a class name", quoteWQL(class))
		}
		return &Isa{Prop: ref, Class: class, Pos: Pos(start)}, p.advance()
	case p.isWord("LIKE"):
		return p.like(ref, start)
	case p.isWord("NOT"):
		notPos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		if !p.isWord("LIKE") {
			return nil, p.expected("LIKE after NOT")
		}
		x, err := p.like(ref, start)
		if err != nil {
			return nil, err
		}
		return &Not{X: x, Pos: Pos(notPos)}, nil
	}
	return nil, p.expected("an operator (= <> < > <= >= LIKE IS ISA)")
}

func (p *parser) like(ref PropRef, start int) (Expr, *posError) {
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind != tokString {
		return nil, p.expected("a pattern in quotes after LIKE")
	}
	if _, msg := compileLike(p.tok.text); msg != "" {
		return nil, errAt(p.tok.pos, "LIKE pattern %s: %s", quoteWQL(p.tok.text), msg)
	}
	return &Like{Prop: ref, Pattern: p.tok.text, Pos: Pos(start)}, p.advance()
}

// validName reports whether s is a WQL identifier.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if i == 0 && !isIdentStart(r) || !isIdentPart(r) {
			return false
		}
	}
	return true
}

// assocKeywords lists the WHERE keywords of ASSOCIATORS OF (a) and
// REFERENCES OF (r), and whether they take "= value".
var assocKeywords = map[string]struct {
	name        string
	valued      bool
	assoc, refs bool
}{
	"assocclass":             {"AssocClass", true, true, false},
	"resultclass":            {"ResultClass", true, true, true},
	"role":                   {"Role", true, true, true},
	"resultrole":             {"ResultRole", true, true, false},
	"requiredqualifier":      {"RequiredQualifier", true, true, true},
	"requiredassocqualifier": {"RequiredAssocQualifier", true, true, false},
	"classdefsonly":          {"ClassDefsOnly", false, true, true},
	"keysonly":               {"KeysOnly", false, true, true},
	"schemaonly":             {"SchemaOnly", false, true, true},
}

func (p *parser) assocStmt(assoc bool) (Statement, *posError) {
	stmtName := "ASSOCIATORS OF"
	if !assoc {
		stmtName = "REFERENCES OF"
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if err := p.expectWord("OF"); err != nil {
		return nil, err
	}
	if p.tok.kind != tokPath {
		return nil, p.expected("an object path in braces, {Class.Key=\"value\"}")
	}
	pathTok := p.tok
	path, perr := parsePath(pathTok)
	if perr != nil {
		return nil, perr
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	vals := map[string]string{}
	flags := map[string]bool{}
	seen := map[string]int{}
	if p.isWord("WHERE") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == tokEOF {
			return nil, p.expected("a keyword after WHERE")
		}
		for p.tok.kind != tokEOF {
			if p.isWord("AND") || p.isWord("OR") {
				return nil, errAt(p.tok.pos, "%s does not take AND or OR: separate its keywords with spaces", stmtName)
			}
			if p.tok.kind != tokWord {
				return nil, p.expected("a keyword such as ResultClass")
			}
			kwPos := p.tok.pos
			kw, ok := assocKeywords[strings.ToLower(p.tok.text)]
			if !ok || (assoc && !kw.assoc) || (!assoc && !kw.refs) {
				return nil, errAt(kwPos, "%s is not a keyword of %s (allowed: %s)", p.tok.describe(), stmtName, allowedKeywords(assoc))
			}
			if _, dup := seen[kw.name]; dup {
				return nil, errAt(kwPos, "%s is given twice", kw.name)
			}
			seen[kw.name] = kwPos
			if err := p.advance(); err != nil {
				return nil, err
			}
			if !kw.valued {
				flags[kw.name] = true
				if p.tok.kind == tokOp && p.tok.text == "=" {
					return nil, errAt(p.tok.pos, "%s takes no value", kw.name)
				}
				continue
			}
			if p.tok.kind != tokOp || p.tok.text != "=" {
				return nil, p.expected("'=' after " + kw.name)
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
			if p.tok.kind != tokWord {
				return nil, p.expected("a name after " + kw.name + " =")
			}
			vals[kw.name] = p.tok.text
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
	} else if p.tok.kind != tokEOF {
		return nil, p.expected("WHERE or the end of the query")
	}
	if flags["ClassDefsOnly"] && flags["SchemaOnly"] {
		return nil, errAt(seen["SchemaOnly"], "ClassDefsOnly and SchemaOnly cannot be used together")
	}
	if flags["KeysOnly"] && (flags["ClassDefsOnly"] || flags["SchemaOnly"]) {
		return nil, errAt(seen["KeysOnly"], "KeysOnly returns instances' keys: it cannot be used with ClassDefsOnly or SchemaOnly")
	}
	if flags["SchemaOnly"] && !path.IsClass() {
		return nil, errAt(seen["SchemaOnly"], "SchemaOnly needs a class path, not an instance path")
	}
	if assoc {
		return &Associators{
			Path: path, PathPos: Pos(pathTok.pos),
			AssocClass: vals["AssocClass"], ResultClass: vals["ResultClass"],
			Role: vals["Role"], ResultRole: vals["ResultRole"],
			RequiredQualifier: vals["RequiredQualifier"], RequiredAssocQualifier: vals["RequiredAssocQualifier"],
			ClassDefsOnly: flags["ClassDefsOnly"], KeysOnly: flags["KeysOnly"], SchemaOnly: flags["SchemaOnly"],
			text: p.lx.src,
		}, nil
	}
	return &References{
		Path: path, PathPos: Pos(pathTok.pos),
		ResultClass: vals["ResultClass"], Role: vals["Role"], RequiredQualifier: vals["RequiredQualifier"],
		ClassDefsOnly: flags["ClassDefsOnly"], KeysOnly: flags["KeysOnly"], SchemaOnly: flags["SchemaOnly"],
		text: p.lx.src,
	}, nil
}

func allowedKeywords(assoc bool) string {
	if assoc {
		return "AssocClass, ResultClass, Role, ResultRole, RequiredQualifier, RequiredAssocQualifier, ClassDefsOnly, KeysOnly, SchemaOnly"
	}
	return "ResultClass, Role, RequiredQualifier, ClassDefsOnly, KeysOnly, SchemaOnly"
}

// parsePath parses the object path of a {…} token with cim.ParseObjectPath
// and checks that it prints back to a path that parses alike.
func parsePath(t token) (cim.ObjectPath, *posError) {
	inner := t.pos + 1
	path, err := cim.ParseObjectPath(t.text)
	if err != nil {
		msg := err.Error()
		if ce, ok := err.(*cim.Error); ok {
			msg = ce.Description
		}
		// Point at the offset cim reports, when it reports one.
		at := inner
		if i := strings.LastIndex(msg, " at offset "); i >= 0 {
			if n, e := strconv.Atoi(msg[i+len(" at offset "):]); e == nil && n <= len(t.text) {
				at += n
				msg = msg[:i]
			}
		}
		if strings.HasPrefix(msg, "object path ") {
			if j := strings.Index(msg, ": "); j >= 0 {
				msg = msg[j+2:]
			}
		}
		return path, errAt(at, "invalid object path: %s", msg)
	}
	for _, c := range path.Host {
		if !isIdentPart(c) && c != '.' && c != '-' {
			return path, errAt(inner, "invalid object path: host name %q", path.Host)
		}
	}
	for _, part := range strings.Split(path.Namespace, "/") {
		if path.Namespace != "" && !validName(part) {
			return path, errAt(inner, "invalid object path: namespace %q", path.Namespace)
		}
	}
	for _, k := range path.Keys {
		if f, ok := k.Value.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			return path, errAt(inner, "invalid object path: key %s is not a finite number", k.Name)
		}
	}
	return path, nil
}
