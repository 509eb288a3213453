"""Cross-site scripting: markup or script that a browser would run.

Matched on the `text` view (entities, JS and CSS escapes decoded, NFKC-folded), and on the
`compact` view where attackers split words with whitespace the browser ignores
(`java&#9;script:`). Plain formatting markup (`<b>`, `<a href="https://...">`) is not a threat;
tags that execute or load code, event-handler attributes and script URLs are.
"""

from __future__ import annotations

from security.detect.rules import ERROR, NOTICE, WARNING, RuleSet, regex_rule

T = "xss"
_HANDLERS = (
    r"on(?:abort|activate|afterprint|animation\w*|auxclick|before\w*|begin|blur|bounce|"
    r"canplay\w*|change|click|close|contextmenu|copy|cuechange|cut|dblclick|drag\w*|drop|"
    r"durationchange|end|ended|error|finish|focus\w*|formdata|hashchange|input|invalid|"
    r"key\w+|load\w*|message|mouse\w+|move\w*|offline|online|page\w+|paste|pause|play\w*|"
    r"pointer\w+|popstate|progress|propertychange|ratechange|readystatechange|repeat|reset|"
    r"resize|scroll\w*|search|seek\w*|select\w*|show|stalled|start|storage|submit|suspend|"
    r"timeupdate|toggle|touch\w+|transition\w*|unload|volumechange|waiting|wheel|zoom)"
)

RULES = RuleSet(
    T,
    (
        regex_rule(
            "xss-script-tag",
            T,
            "<script> element",
            r"<\s*/?\s*script\b",
            triggers="<",
        ),
        regex_rule(
            "xss-event-handler",
            T,
            "Tag with an event-handler attribute: <img onerror=, <svg/onload=",
            rf"<\s*[a-z!?][^>]*?[\s/\"'`;]{_HANDLERS}[^\s=>]{{0,40}}=",
            triggers="<",
        ),
        regex_rule(
            "xss-attribute-breakout",
            T,
            'Quote closed then an event handler: " onmouseover=',
            rf"['\"`]\s*(?:>|/)?[\s/]*{_HANDLERS}\s*=",
            triggers="'\"`",
        ),
        regex_rule(
            "xss-handler-attribute",
            T,
            'Event-handler attribute with code, injected into a tag: onfocus="alert(1)"',
            rf"(?:^|[\s\"'/]){_HANDLERS}\s*=\s*[\"'`]?[^<>]{{0,80}}?[(`\[]",
            triggers="=",
        ),
        regex_rule(
            "xss-script-url",
            T,
            "javascript:, vbscript: or livescript: URL with code after it",
            r"(?:java|vb|live|ecma)script\s*:\s*(?:[\w.$\[\]]+\s*[(\[=`]|//|/\*|['\"`(]|"
            r"[\w.$]+\s*$)",
            view="text",
            triggers=":",
        ),
        regex_rule(
            "xss-script-url-split",
            T,
            "javascript: split by whitespace or control characters",
            r"(?:^|[\"'=(`])(?:java|vb)script:",
            view="compact",
            triggers=":",
        ),
        regex_rule(
            "xss-data-url",
            T,
            "data: URL carrying HTML, script or SVG",
            r"data\s*:\s*(?:text/html|text/javascript|application/(?:x-)?(?:javascript|"
            r"ecmascript|xhtml\+xml)|image/svg\+xml|text/xml)\b",
            triggers=":",
        ),
        regex_rule(
            "xss-active-tag",
            T,
            "Element that loads or runs active content: iframe, object, embed, applet, base, meta",
            r"<\s*(?:iframe|frame|frameset|object|embed|applet|base|meta|isindex|xss|"
            r"svg|math|xml|import|link|style|form|template|portal|plaintext|xmp|listing|"
            r"noembed|noframes|keygen)\b[^<]{0,200}?"
            r"(?:>|/|\s(?:src|href|data|action|code|content|http-equiv|srcdoc|xlink:href|"
            r"style|rel)\b)",
            triggers="<",
            score=ERROR,
        ),
        regex_rule(
            "xss-url-attribute",
            T,
            "src/href/action attribute pointing at script or data",
            r"\b(?:src|href|action|formaction|data|xlink:href|background|lowsrc|dynsrc|"
            r"poster|srcdoc|code|codebase|from|to|values)\s*=\s*['\"`]?\s*"
            r"(?:javascript|vbscript|livescript|data)\s*:",
            triggers="=",
        ),
        regex_rule(
            "xss-breakout-sink",
            T,
            "Quote or tag closed, then a script sink: \";alert(1)//, '-prompt`1`-'",
            r"(?:['\"`;]|</\w+>|-->)\s*[;)+\-*/,|&]*\s*(?:alert|prompt|confirm|eval|"
            r"settimeout|setinterval|function|document\.\w+|window\.\w+|top\[|self\[|"
            r"constructor|fetch|import)\s*[(`\[.=]",
            triggers="'\"`>",
        ),
        regex_rule(
            "xss-template-injection",
            T,
            "Client-side template expression: {{constructor.constructor(...)}}, ${alert(1)}",
            r"\{\{.{0,120}?(?:constructor|\$eval|\$on|alert|prompt|confirm|"
            r"\[\s*['\"]\w+['\"]\s*\])|\$\{\s*(?:alert|prompt|confirm|eval)\s*\(",
            triggers="{",
        ),
        regex_rule(
            "xss-css-expression",
            T,
            "CSS that runs script: expression(), -moz-binding, behavior: url()",
            r"\bexpression\s*\(|-moz-binding\s*:|\bbehavior\s*:\s*url\s*\(|"
            r"@import\s+['\"]?\s*(?:javascript|data):",
            triggers="(:@",
        ),
        regex_rule(
            "xss-dom-sink",
            T,
            "Script sinks and cookie access: document.cookie, alert(, String.fromCharCode",
            r"\bdocument\s*\.\s*(?:cookie|domain|write(?:ln)?)\b|"
            r"\b(?:alert|prompt|confirm)\s*(?:\(|`)|\bstring\s*\.\s*fromcharcode\s*\(|"
            r"\b(?:eval|settimeout|setinterval)\s*\(\s*['\"`]|\binnerhtml\s*=|"
            r"\blocation(?:\.href)?\s*=\s*['\"`]?(?:javascript|//)",
            triggers="(.=`",
            paranoia=1,
            score=NOTICE,  # prose about JavaScript names these too: it only adds weight
        ),
        regex_rule(
            "xss-any-tag",
            T,
            "Any HTML tag opening with attributes",
            r"<\s*[a-z][a-z0-9-]*\s+[^>]*=",
            paranoia=2,
            triggers="<",
            score=WARNING,
        ),
    ),
)
