// Package wql is the WMI Query Language of cimsess: a lexer and parser
// that turn query text into an AST ([Parse]), a printer that writes the
// AST back as canonical WQL ([Statement].String), semantic checks of a
// statement against the class schema and a compiled evaluator ([Prepare],
// [Query]).
//
// Four statements are understood:
//
//	SELECT * | prop, … FROM Class [WHERE cond]                       data query   (*Select)
//	SELECT * FROM __InstanceXxxEvent [WITHIN s] WHERE TargetInstance
//	    ISA 'Class' [AND cond]                                         event query  (*EventQuery)
//	ASSOCIATORS OF {path} [WHERE AssocClass = A ResultClass = R …]    (*Associators)
//	REFERENCES OF {path} [WHERE ResultClass = R Role = r …]           (*References)
//
// Conditions compare a property with a constant (either side) using
// = <> != < > <= >=, LIKE (% _ [a-f] [^a-f]), IS [NOT] NULL and ISA,
// combined with AND, OR, NOT and parentheses. Keywords and string
// comparisons are case-insensitive.
//
// Semantics chosen where WQL leaves room:
//
//   - Logic is two-valued: a comparison whose property is NULL (or absent)
//     is false, whatever the operator, including <> and LIKE; only IS NULL
//     is true for it. NOT negates that result, so NOT (P = 1) is true for a
//     NULL P.
//   - ISA applies to embedded objects: TargetInstance and PreviousInstance
//     in event queries, and __THIS (the instance itself) or __CLASS in data
//     queries, where it is true when the instance's class is the named
//     class or one of its subclasses. __CLASS = 'X' matches class X only.
//   - A data query may name only properties of its FROM class (as WMI
//     does), and system properties; an event query only TargetInstance.P,
//     PreviousInstance.P (modification events), TIME_CREATED and __CLASS.
//   - A numeric property may be compared with a number or with a string
//     that holds one; a datetime property with a string holding a CIM
//     datetime of the same sort (point in time or, for properties with
//     SubType("interval"), interval), compared as instants in UTC.
//
// Every error is a *cim.Error: CIM_ERR_INVALID_QUERY for malformed or
// ill-typed queries, CIM_ERR_INVALID_CLASS for unknown classes and
// CIM_ERR_NOT_SUPPORTED for valid WQL this package does not implement
// (GROUP WITHIN, HAVING). Its Description says where, on three lines:
//
//	line 1, column 34: expected a property name, found ')'
//	SELECT Name FROM Win32_Session WHERE )
//	                                     ^
//
// [Position] recovers the line and column.
package wql
