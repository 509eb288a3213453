"""SQL injection: breaking out of a literal and speaking SQL.

Keywords alone are English ("select", "union", "order by"), so the rules look for SQL
*structure*: a comparison between two literals after a boolean operator (tautologies and
contradictions alike), UNION SELECT, sub-selects in expressions, stacked statements after
`;`, time and error oracles, catalogue names no prose contains, and a literal closed early
and followed by a comment. All match the `sql` view: decoded, folded, comments removed.
"""

from __future__ import annotations

import re

from security.detect.normaliser import Views
from security.detect.rules import CRITICAL, ERROR, NOTICE, WARNING, RuleSet, check_rule, regex_rule

T = "sqli"
_LIT = (
    r"(?:'[^']{0,40}(?:'|$)|\"[^\"]{0,40}(?:\"|$)|-?\d+(?:\.\d+)?|[a-z_]{1,30}\(\s*\)|"
    r"null|true|false)"
)
# No bare < or >: "5 < 10 and 20 > 15" is prose; boolean probes compare with = (or LIKE...).
_OP = r"(?:=|==|<=>|<>|!=|\blike\b|\brlike\b|\bregexp\b|\bis\b(?:\s+not)?|\bin\b)"
_BREAK = r"(?:^|['\"`)\d]|\b)"
_COMMENT_AFTER_QUOTE = re.compile(r"['\"`]\s*\)*\s*(?:--|#|/\*|;\s*(?:--|#|$))")
_QUOTES = re.compile(r"['\"`]")


def _unbalanced_quote_then_comment(views: Views) -> tuple[int, int, str] | None:
    """`admin'--`: a literal closed early (an odd quote right after a value) and the rest
    commented out. Code and prose are not: `x = 'a'  # note` closes a balanced literal,
    `'--verbose'` opens one, and `"Wow!" -- Tolkien` follows punctuation.
    """
    text = views.text
    if "'" not in text and '"' not in text and "`" not in text:
        return None
    for found in _COMMENT_AFTER_QUOTE.finditer(text):
        at = found.start()
        quote = text[at]
        before = text[at - 1] if at else ""
        if before and not (before.isalnum() or before in ")_"):
            continue
        if quote in text[found.end() : found.end() + 16]:
            continue  # the quote closes right after: a literal like '--no-x'
        if text.count(quote, 0, at + 1) % 2 == 1:
            return at, found.end(), "text"
    return None


RULES = RuleSet(
    T,
    (
        regex_rule(
            "sqli-union-select",
            T,
            "UNION [ALL|DISTINCT] SELECT",
            r"\bunion\b[\s(]*(?:all\b|distinct\b)?[\s(]*select\b",
            view="sql",
        ),
        regex_rule(
            "sqli-boolean-literals",
            T,
            "Boolean operator followed by a comparison of two literals (1=1, 'a'='a', 2>1)",
            rf"(?:\b(?:or|and|xor|not|div)\b|\|\||&&)[\s(]*(?:not\s+|!\s*)?{_LIT}\s*{_OP}\s*\(?\s*{_LIT}",
            view="sql",
            triggers="=<>!ilk",
        ),
        regex_rule(
            "sqli-boolean-true",
            T,
            "Quote broken out of, then OR TRUE / OR 1 / OR NOT",
            r"['\"`)]\s*(?:\bor\b|\|\|)\s+(?:true\b|not\b|\d+\s*(?:$|--|#|;|\)))",
            view="sql",
            triggers="'\"`)",
        ),
        regex_rule(
            "sqli-subselect",
            T,
            "Sub-select inside an expression: =(SELECT, AND (SELECT, IN (SELECT, ' (SELECT",
            r"(?:[=<>(,'\"`|+]|\b(?:and|or|in|exists|not|rlike|like|then|else)\b)\s*\(\s*select\b|"
            r"\(\s*select\s+(?:count\s*\(\s*\*\s*\)|top\s+\d|\d+\s+from|\*\s+from)",
            view="sql",
            triggers="(",
        ),
        regex_rule(
            "sqli-conditional-literals",
            T,
            "Conditional function over a comparison of literals: ELT(1=2,1), IIF(3=4,1,1/0)",
            r"\b(?:make_set|elt|iif|if|nullif|ifnull|case\s+when|choose|decode)\s*\(?\s*\(?\s*"
            r"-?\d+\s*(?:=|<>|!=|>|<)\s*-?\d+\s*[,)]",
            view="sql",
            triggers="(",
        ),
        regex_rule(
            "sqli-grouped-comparison",
            T,
            "A parenthesised comparison of two numbers used as a value: (3826=7985)*1",
            r"\(\s*-?\d+\s*(?:=|<>|!=)\s*-?\d+\s*\)\s*(?:[*+/-]|\band\b|\bor\b|--|#|$)",
            view="sql",
            triggers="(",
            score=ERROR,
        ),
        regex_rule(
            "sqli-identifier-tautology",
            T,
            "Quote broken out of, then OR/AND an identifier compared: ' or a=a, ' or user like '%",
            r"(?:['\"`)]|^)\s*(?:\bor\b|\band\b|\|\||&&)\s+([a-z_][\w.]{0,30})\s*(?:=\s*\1\b|"
            r"\blike\s+['\"]%|(?:=|<>|!=|\blike\b)\s*['\"]?\s*(?:--|#|$))",
            view="sql",
            triggers="'\"`)",
        ),
        regex_rule(
            "sqli-stacked",
            T,
            "A second statement after ';'",
            r";\s*(?:drop\s+(?:table|database|user|view|procedure)|delete\s+from|"
            r"insert\s+into|update\s+[\w.`\"\[\]]+\s+set\b|exec(?:ute)?\b|shutdown\b|"
            r"declare\s+@|create\s+(?:table|user|database|procedure|function)|"
            r"alter\s+(?:table|user|database)|truncate\s+table|"
            r"select\b.{0,120}?\b(?:from|sleep|pg_sleep|benchmark|version|user|char)\b|"
            r"select\s+\*|waitfor\b|grant\b|revoke\b|backup\s+database|load\s+data|"
            r"copy\s+\w+\s+from|"
            r"if\s*\(|begin\b|call\s+\w+)",
            view="sql",
            triggers=";",
        ),
        regex_rule(
            "sqli-time-oracle",
            T,
            "Time-based oracle: SLEEP, BENCHMARK, PG_SLEEP, WAITFOR DELAY, DBMS_PIPE",
            r"(?:\b(?:sleep|pg_sleep|sys\.dbms_lock\.sleep|dbms_lock\.sleep)\s*\(\s*"
            r"(?:\d{1,3}(?:\.\d+)?\s*\)|\(|[a-z@])|\bbenchmark\s*\(\s*\d{4,}\s*,|"
            r"\bwaitfor\s+(?:delay|time)\s+['\"]|"
            r"\bdbms_pipe\.receive_message\s*\(|\brandomblob\s*\(\s*\d{5,}|"
            r"\bgenerate_series\s*\(\s*\d+\s*,\s*\d{5,}|\bregexp_substring\s*\(\s*repeat\s*\(|"
            r"\brepeat\s*\([^)]{0,80},\s*\d{6,}\s*\))",
            view="sql",
            triggers="(w",
        ),
        regex_rule(
            "sqli-error-oracle",
            T,
            "Error-based extraction: EXTRACTVALUE, UPDATEXML, GTID_SUBSET, CONVERT(INT, ...)",
            r"\b(?:extractvalue|updatexml|gtid_subset|gtid_subtract|json_keys|exp\s*\(\s*~|"
            r"geometrycollection|multipoint|polygon|linestring|multilinestring|"
            r"utl_inaddr\.get_host_\w+|ctxsys\.drithsx\.sn|dbms_utility\.sqlid_to_sqlhash|"
            r"xmltype|procedure\s+analyse)\s*\(|"
            r"\b(?:convert|cast)\s*\(\s*(?:int|varchar|char|numeric)\b\s*,\s*\(?\s*(?:select|@@|"
            r"char|db_name|user_name|system_user)|\bfloor\s*\(\s*rand\s*\(",
            view="sql",
            triggers="(",
        ),
        regex_rule(
            "sqli-catalogue",
            T,
            "Database catalogue or server variable no prose mentions",
            r"\b(?:information_schema|mysql\.(?:user|db)|pg_(?:catalog|shadow|user|database)|"
            r"sqlite_(?:master|schema|temp_master)|sys(?:objects|columns|comments|users|"
            r"databases|logins)|master\.\.\w+|all_tables|user_tables|all_tab_columns|"
            r"msysaccessobjects|msysobjects|rdb\$\w+|sysibm\.\w+|sysmaster:\w+|"
            r"domain\.(?:domains|columns|tables)|utl_http\.request|utl_inaddr|"
            r"xp_(?:cmdshell|regread|dirtree|"
            r"fileexist|servicecontrol)|sp_(?:executesql|oacreate|makewebtask|password|"
            r"addlogin|configure))\b|@@(?:version|datadir|hostname|basedir|servername|"
            r"identity|spid|language)\b",
            view="sql",
        ),
        regex_rule(
            "sqli-comment-after-quote",
            T,
            "Quote closed then the rest commented out: admin'--, ')#",
            r"(?<=[\w)])['\"`]\s*\)*\s*(?:--|#|/\*)",
            view="text",
            paranoia=1,
            triggers="'\"`",
            score=NOTICE,
        ),
        regex_rule(
            "sqli-order-probe",
            T,
            "Column-count probe: ORDER BY n / GROUP BY n after a breakout or before a comment",
            r"(?:['\")]\s*|^\d*\s*)(?:order|group)\s+by\s+\d+\b\s*(?:--|#|/\*|;|$|,)",
            view="text",
            triggers="by",
        ),
        regex_rule(
            "sqli-having",
            T,
            "HAVING with a literal comparison",
            rf"\bhaving\b\s*{_LIT}\s*{_OP}\s*{_LIT}",
            view="sql",
        ),
        regex_rule(
            "sqli-case-when",
            T,
            "CASE WHEN ... THEN inside a value",
            r"\bcase\s+when\b.{1,120}?\bthen\b",
            view="sql",
            score=ERROR,
        ),
        regex_rule(
            "sqli-into-outfile",
            T,
            "File access: INTO OUTFILE/DUMPFILE, LOAD_FILE",
            r"\binto\s+(?:out|dump)file\b|\bload_file\s*\(",
            view="sql",
        ),
        regex_rule(
            "sqli-quote-boolean",
            T,
            "Quote broken out of then AND/OR an identifier or function",
            r"['\"`]\s*\)*\s*(?:\b(?:and|or|xor|rlike|regexp|div)\b|\|\||&&)\s+"
            r"(?:\(?\s*(?:select|sleep|benchmark|if|case|ascii|substr\w*|mid|"
            r"length|ord|char|updatexml|extractvalue|\d+)\b)",
            view="sql",
            triggers="'\"`",
            score=CRITICAL,
        ),
        regex_rule(
            "sqli-string-functions",
            T,
            "Blind extraction functions: ASCII(SUBSTRING(...)), CHAR(n,n), CONCAT(0x..)",
            r"\b(?:ascii|ord|unicode)\s*\(\s*(?:substr\w*|mid|left|right)\s*\(|"
            r"\b(?:char|chr|nchar)\s*\(\s*\d+\s*\)\s*(?:\+|\|\||,)|"
            r"\bchar\s*\(\s*\d+\s*(?:,\s*\d+\s*){2,}\)|"
            r"\bconcat(?:_ws)?\s*\(\s*(?:0x[0-9a-f]+|char\s*\(|@@|\(\s*select)",
            view="sql",
            triggers="(",
        ),
        regex_rule(
            "sqli-quote-semicolon",
            T,
            "Quote broken out of then ';' (stacked query start)",
            r"['\"]\s*\)*\s*;\s*\w",
            view="sql",
            paranoia=2,
            triggers=";",
            score=WARNING,
        ),
        regex_rule(
            "sqli-hex-literal",
            T,
            "Long hexadecimal literal (used to smuggle strings)",
            r"(?:^|[\s(,=])0x[0-9a-f]{8,}\b",
            view="sql",
            paranoia=2,
            score=WARNING,
        ),
        regex_rule(
            "sqli-keywords",
            T,
            "SQL statement shape: SELECT ... FROM, INSERT INTO ... VALUES, DROP TABLE",
            r"\bselect\b.{1,100}?\bfrom\b\s+[\w.`\"\[\]]+|\binsert\s+into\b.{1,100}?\bvalues\b|"
            r"\bdrop\s+table\b|\bdelete\s+from\b\s+\w+\s+where\b",
            view="sql",
            paranoia=2,
            score=WARNING,
        ),
        check_rule(
            "sqli-unbalanced-comment",
            T,
            "An odd quote followed by a comment or terminator: the literal was cut short",
            _unbalanced_quote_then_comment,
            score=ERROR,
        ),
    ),
)
