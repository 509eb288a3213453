"""Path traversal and local file inclusion: climbing out of a directory, or naming a file
that only an attacker asks a web application for.
"""

from __future__ import annotations

from security.detect.rules import ERROR, NOTICE, RuleSet, regex_rule

T = "path_traversal"

RULES = RuleSet(
    T,
    (
        regex_rule(
            "lfi-dot-dot-slash",
            T,
            "Two or more parent-directory steps: ../../, ..\\..\\, ..;/ and padded forms",
            r"(?:\.{2,}[;:]?[/\\]+.{0,8}?){2,}|(?:^|[/\\=])\.{2,}[;:]?[/\\]+\.{2,}",
            view="compact",
            triggers=".",
        ),
        regex_rule(
            "lfi-dot-dot-once",
            T,
            "A parent-directory step at the start of a value or path segment",
            r"(?:^|[=/\\:])\.{2,}[;:]?[/\\]|[/\\]\.{2,}(?:$|[/\\;?#])",
            view="compact",
            triggers=".",
            score=NOTICE,  # `../README.md` is also an ordinary relative link
        ),
        regex_rule(
            "lfi-sensitive-file",
            T,
            "A system file an application never serves: /etc/passwd, win.ini, .ssh, .env",
            r"(?:^|[/\\=:]|\.\.)(?:etc[/\\]+(?:passwd|shadow|group|hosts|issue|motd|sudoers|"
            r"crontab|fstab|hostname|resolv\.conf|security|ssh|httpd|apache2|nginx|mysql|"
            r"profile|bashrc)\b|proc[/\\]+(?:self|\d+)[/\\]+(?:environ|cmdline|fd|maps|status|"
            r"mem|cwd|root)\b|(?:root|home[/\\]+[\w.-]+)[/\\]+\.(?:ssh|bash_history|"
            r"aws|docker|kube)\b|var[/\\]+(?:log|run|lib[/\\]+mysql)\b|"
            r"(?:boot|win|system)\.ini\b|windows[/\\]+(?:system32|win\.ini|system\.ini|"
            r"repair|panther)\b|winnt[/\\]|inetpub[/\\]|\.htpasswd\b|\.htaccess\b|"
            r"web\.config\b|wp-config\.php\b|\.git[/\\]+(?:config|head|index)\b|"
            r"id_(?:rsa|dsa|ecdsa|ed25519)\b|\.env(?:\.\w+)?$|"
            r"(?:usr|bin)[/\\]+(?:bin[/\\]+)?(?:env|id|perl|python\d?|bash|sh)\b(?!\w))",
            view="compact",
            triggers="/\\.",
        ),
        regex_rule(
            "lfi-stream-wrapper",
            T,
            "Stream wrapper reading files: php://filter, file://, expect://, zip://, phar://",
            r"\b(?:php|file|expect|zip|phar|glob|data|zlib|compress\.\w+|jar|netdoc)://",
            view="compact",
            triggers=":",
        ),
        regex_rule(
            "lfi-windows-drive",
            T,
            "Absolute Windows path to a system directory",
            r"\b[a-z]:[/\\]+(?:windows|winnt|boot\.ini|inetpub|users[/\\]+\w+[/\\]+"
            r"(?:ntuser|appdata)|system volume)",
            triggers=":",
            score=ERROR,
        ),
        regex_rule(
            "lfi-null-terminated",
            T,
            "A path cut short by a NUL byte to drop an appended extension",
            r"[\w./\\]\x00",
            view="decoded",
            triggers="\x00",
            score=ERROR,
        ),
        regex_rule(
            "lfi-hex-separator",
            T,
            "Dots and separators spelt as hex literals: ..0x2f, 0x2e0x2e0x5c",
            r"(?:\.\.|0x2e0x2e)(?:0x2f|0x5c)",
            view="compact",
            triggers="x",
        ),
        regex_rule(
            "lfi-encoded-separator",
            T,
            "Separator still encoded after decoding: %2f, %5c, %c0%af layered past a proxy",
            r"\.\.%(?:2f|5c|c0|e0|u2215|u2216)",
            view="compact",
            triggers="%",
        ),
    ),
)
