"""OS command and code injection: a shell separator followed by a command, command
substitution, shell tricks (`${IFS}`, brace expansion), Shellshock, and script-language
calls that run commands (`system()`, `exec()`, `;exit(md5(...))`).
"""

from __future__ import annotations

from security.detect.rules import ERROR, WARNING, RuleSet, regex_rule

T = "command_injection"

# Commands an injection runs first: reconnaissance, timing oracles, downloaders, shells.
_UNIX = (
    r"(?:cat|tac|nl|head|tail|more|less|ls|dir|id|whoami|uname|hostname|pwd|env|printenv|"
    r"set|echo|printf|ping|nc|ncat|netcat|socat|curl|wget|fetch|lwp-\w+|bash|sh|zsh|ksh|"
    r"csh|tcsh|dash|ash|python[23]?|perl|ruby|php|node|lua|nslookup|dig|host|sleep|rm|"
    r"chmod|chown|mkfifo|telnet|ifconfig|ip\s+a|netstat|ps|kill|killall|touch|cp|mv|find|"
    r"grep|awk|gawk|sed|base64|xxd|od|eval|exec|nohup|timeout|sudo|su|passwd|crontab|"
    r"useradd|tftp|ftp|scp|ssh|busybox|uptime|w|last|who|groups|mail|sendmail|"
    r"type|ver|ipconfig|systeminfo|tasklist|taskkill|net\s+(?:user|localgroup|view)|"
    r"powershell(?:\.exe)?|pwsh|cmd(?:\.exe)?|certutil|bitsadmin|wmic|reg|regsvr32|"
    r"rundll32|mshta|cscript|wscript|start|del|copy|move|xcopy|query|whoami\.exe)"
)
# What follows a real command: end of value, another separator, an option, a path, a
# variable, an address or a quote; "; find out more" is prose, "; find / -name" is not.
_ARGS = (
    r"(?:\s*(?:$|[;|&`)\n#<>])|"
    r"\s+(?:-{1,2}\w|/|\\|\$|~|\.{1,2}/|\d|'|\"|[a-z]:\\|%\w+%|(?:https?|ftp)://))"
)

_NOT_AGENT = ("path", "query", "name", "body", "cookie", "header", "header.referer")

RULES = RuleSet(
    T,
    (
        regex_rule(
            "cmdi-separator-command",
            T,
            "Shell separator followed by a command: ;id, |cat /etc/passwd, && whoami",
            # A lone backtick, not a Markdown fence: "```python" opens a code block.
            rf"(?:[;|\n]|(?<!`)`(?!`)|&&?|\|\||\$\()\s*(?:\{{\s*)?(?:/(?:usr/)?s?bin/)?{_UNIX}\b"
            rf"{_ARGS}",
            triggers=";|&`\n$",
            locations=_NOT_AGENT,
        ),
        regex_rule(
            "cmdi-agent-command",
            T,
            "Command chained into a User-Agent (';' separates product tokens there, so not ';')",
            rf"(?:[|\n]|(?<!`)`(?!`)|&&|\|\||\$\()\s*(?:/(?:usr/)?s?bin/)?{_UNIX}\b{_ARGS}",
            triggers="|&`\n$",
            locations=("header.user-agent",),
        ),
        regex_rule(
            "cmdi-command-substitution",
            T,
            "Command substitution: $(...) or `...` running a command",
            rf"\$\(\s*(?:/(?:usr/)?s?bin/)?{_UNIX}\b|`\s*(?:/(?:usr/)?s?bin/)?{_UNIX}\b[^`\n]{{0,80}}`",
            triggers="$`",
        ),
        regex_rule(
            "cmdi-separator-network",
            T,
            "Separator, then a network tool or account command aimed at a host or user: "
            "; nslookup x.attacker.net, & net user admin",
            r"(?:[;|\n]|(?<!`)`(?!`)|&&?|\|\||\$\()\s*(?:(?:nslookup|dig|host|ping|curl|wget|nc|"
            r"ncat|telnet|ssh|ftp|tftp)\s+(?:[-+]\w+\s+)*[a-z0-9-]+(?:\.[a-z0-9-]+)+\b|"
            # Windows' account commands take /switches: "& net user x y /add".
            r"net\s+(?:user|localgroup|accounts|share)(?:\s+[^\s/]+){0,3}\s+/\w+)",
            triggers=";|&`\n$",
            locations=_NOT_AGENT,
        ),
        regex_rule(
            "cmdi-ssi",
            T,
            "Server-side include directive: <!--#exec cmd=...-->, <!--#include virtual=...-->",
            r"<!--\s*#\s*(?:exec|include|echo|printenv|config|fsize|flastmod)\b",
            triggers="<",
            score=ERROR,
        ),
        regex_rule(
            "cmdi-shell-tricks",
            T,
            "Shell evasions: ${IFS}, $IFS$9, {cat,/etc/passwd}, quotes inside a command name",
            r"\$\{?ifs\}?|\$\{\w*[:#%/]|\{\s*(?:cat|ls|id|wget|curl|nc|bash|sh|ping),[^}]*\}|"
            r"\b(?:c['\"\\]+a['\"\\]*t|w['\"\\]+h['\"\\]*o['\"\\]*a['\"\\]*m['\"\\]*i)\b|"
            r"\$@|\\\s*\n",
            triggers="$}'\"\\",
        ),
        regex_rule(
            "cmdi-shell-path",
            T,
            "Interpreter or device path: /bin/sh, /dev/tcp/, cmd.exe /c, powershell -enc",
            r"/(?:usr/)?(?:local/)?s?bin/(?:ba|z|k|c|tc|da)?sh\b|/dev/(?:tcp|udp)/|"
            r"\bcmd(?:\.exe)?\s+/[ck]\b|\bpowershell(?:\.exe)?\s+-\w+|"
            r"\bnc(?:at)?\s+(?:-\w+\s+)*-[elcp]\b|\bbash\s+-[ic]\b|\bsh\s+-c\b",
            triggers="/-",
        ),
        regex_rule(
            "cmdi-shellshock",
            T,
            "Shellshock function definition: () { :; };",
            r"\(\s*\)\s*\{.{0,20}?;\s*\}\s*;",
            view="text",
            triggers="{",
        ),
        regex_rule(
            "cmdi-timing",
            T,
            "Timing probe: ; sleep 5, | ping -n 20, & timeout /t",
            r"(?:[;|&`\n]|\$\()\s*(?:sleep\s+\d|ping\s+-[nc]\s*\d|timeout\s+/t\s*\d)",
            triggers=";|&`\n$",
        ),
        regex_rule(
            "cmdi-code-call",
            T,
            "Script-language call that runs commands or code: system(, passthru(, exec(",
            r"\b(?:system|passthru|shell_exec|popen|proc_open|pcntl_exec|exec|eval|assert|"
            r"create_function|call_user_func(?:_array)?|preg_replace|include|require|"
            r"include_once|require_once|file_get_contents|phpinfo|base64_decode|runtime\s*\.\s*"
            r"getruntime|processbuilder|child_process|subprocess\s*\.\s*\w+|os\s*\.\s*"
            r"(?:system|popen|exec\w*)|__import__)\s*\(\s*(?:['\"`$]|\w+\s*\()",
            triggers="(",
            score=ERROR,
        ),
        regex_rule(
            "cmdi-code-breakout",
            T,
            "Literal closed, then a call: ';exit(md5(...));//, \".system('id').\"",
            r"['\"`]\s*[;.)]\s*(?:exit|die|system|eval|exec|passthru|print|echo|phpinfo|"
            r"assert|shell_exec|require|include|sleep|md5)\s*\(",
            triggers="'\"`",
        ),
        regex_rule(
            "cmdi-separator-call",
            T,
            "Separator then a script call that ends or probes execution: ;exit(md5(...));//",
            r"(?:^|[;|&`])\s*(?:exit|die|system|eval|passthru|shell_exec|phpinfo|print_r|"
            r"var_dump|md5|sleep|usleep|assert)\s*\(\s*(?:\w+\s*\(|['\"`$]|\d|\))",
            triggers=";|&`",
        ),
        regex_rule(
            "cmdi-script-source",
            T,
            "Server-side code smuggled in a value: <?php, base64 of <?php, Perl and Ruby exec",
            r"<\?(?:php|=)|data:[^,]{0,40};base64,pd9w|@\{\[\s*(?:system|exec|`)|"
            r"%x[({\[]|\bkernel\s*\.\s*(?:exec|system|spawn|exit|open)\s*\(|"
            r"\bio\s*\.\s*popen\s*\(|\bsystem\s*\(?\s*['\"`](?:[^'\"`]*\s)?(?:ls|cat|id|touch|rm|"
            r"wget|curl|nc|bash|sh|whoami|uname|ping)\b",
            triggers="?;@%(.'\"`",
        ),
        regex_rule(
            "cmdi-leading-command",
            T,
            "A value that is itself a command with typical arguments: `cat /etc/passwd`",
            r"^(?:/(?:usr/)?s?bin/)?(?:cat|ls|id|whoami|uname|wget|curl|nc|ping|sleep|bash|sh)"
            r"\s+(?:-\w+\s+)*(?:/|\d+\s*$|https?://)",
            score=ERROR,
            paranoia=2,
        ),
        regex_rule(
            "cmdi-shell-variable",
            T,
            "Shell variable or argument injection: $USER, ${HOME}, --upload-pack, --post-file",
            r"(?:^|[\s;|&=])\$\{?(?:user|home|path|shell|pwd|ifs|ld_preload|hostname|uid|"
            r"oldpwd|bash_env|env)\}?(?:$|[\s;|&/])|^-{1,2}(?:version|help|exec|output|config|"
            r"upload-pack|post-file|use-askpass|checkpoint-action|to-command|eval)\b",
            triggers="$-",
            score=WARNING,
        ),
        regex_rule(
            "cmdi-windows-env",
            T,
            "Windows environment expansion used to build commands: %COMSPEC%, %SYSTEMROOT%",
            r"%(?:comspec|systemroot|windir|programfiles|userprofile|temp|path)%",
            triggers="%",
            score=WARNING,
        ),
    ),
)
