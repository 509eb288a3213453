"""Known scanners, attack tools and automation, by User-Agent and by what they ask for.

Attack tools announce themselves more often than not (sqlmap, Nikto, Nuclei...): that is a
critical match. Generic automation (curl, python-requests, Go's client) is legitimate API
traffic as often as not, so it only counts at paranoia level 2. Scanners also give themselves
away by requesting files of software Pitchey does not run (`/wp-login.php`, `/.git/config`).
"""

from __future__ import annotations

from security.detect.rules import CRITICAL, NOTICE, WARNING, RuleSet, regex_rule

T = "scanner"

_TOOLS = (
    r"sqlmap|nikto|nmap|masscan|zgrab|zmap|nuclei|wpscan|dirbuster|dirb\b|gobuster|ffuf|"
    r"feroxbuster|wfuzz|hydra|medusa|acunetix|netsparker|invicti|burp(?:suite)?|"
    r"owasp[ _-]?zap|zaproxy|w3af|arachni|openvas|nessus|qualys|nexpose|appscan|webinspect|"
    r"havij|commix|xsstrike|whatweb|wapiti|skipfish|grabber|vega|jaeles|dalfox|"
    r"paros|webscarab|sqlninja|bsqlbf|brutus|fimap|joomscan|droopescan|cmsmap|"
    r"morfeus|zmeu|jorgee|l9scan|leakix|censysinspect|expanse|netcraft|httprobe|"
    r"nuclei|xray|struts-pwn|masscan|pangolin|absinthe|blackwidow|crimscanner|"
    r"dotdotpwn|grendel-scan|n-stealth|nsauditor|pmafind|sql power injector|webshag|"
    r"webvulnscan|webbandit|voideye|sysscan|detectify|fuzz faster u fool|cisco-torch|mysqloit|"
    r"fhscan|gootkit|\.nasl|security scan|this is an exploit|xmlrpc exploit|email extractor|"
    r"bfac|cgichk|inspath|datacha0s|toata dragostea|s\.t\.a\.l\.k\.e\.r\.|"
    r"webtrends security analyzer|springenwerk|internet ninja|teh forest lobster|"
    r"autogetcontent|domino hunter|core-project/|floodgate|f-secure radar|uil2pn|"
    r"^user-agent:|prog\.customcrawler|whcc/|get-minimal|bilbo|metis|jaascois|"
    r"mozilla/4\.0 \(compatible; msie 6\.0; windows nt 5\.1\)$"
)
_AUTOMATION = (
    r"^(?:curl|wget|python-requests|python-urllib|python-httpx|aiohttp|go-http-client|"
    r"java/|apache-httpclient|okhttp|libwww-perl|lwp::simple|php/|ruby|axios|node-fetch|"
    r"got \(|undici|postmanruntime|insomnia|httpie|scrapy|mechanize|winhttp|powershell)"
)
_PROBED_PATHS = (
    r"(?:^|/)(?:wp-(?:login|admin|config|content/plugins|includes)|xmlrpc\.php|"
    r"phpmyadmin|pma|myadmin|adminer|\.git/|\.svn/|\.hg/|\.env\b|\.ds_store|"
    r"\.aws/|\.ssh/|\.htaccess|\.htpasswd|web\.config|server-status|server-info|"
    r"cgi-bin/|vendor/phpunit|phpinfo\.php|info\.php|actuator/(?:env|heapdump|gateway)|"
    r"jmx-console|manager/html|solr/admin|telescope/requests|_ignition/|"
    r"console/login|owa/auth|autodiscover/|boaform|hnap1|\.well-known/security\.txt~|"
    r"(?:backup|dump|db|database|site)\.(?:sql|tar|tgz|zip|gz|bak)\b|"
    r"\.(?:bak|old|orig|swp|save)$|shell\.php|c99\.php|r57\.php|eval-stdin\.php)"
)

RULES = RuleSet(
    T,
    (
        regex_rule(
            "scanner-tool-agent",
            T,
            "User-Agent of a vulnerability scanner or attack tool",
            _TOOLS,
            locations=("header.user-agent",),
        ),
        regex_rule(
            "scanner-tool-header",
            T,
            "Header that only scanners send",
            r"^(?:acunetix|netsparker|x-scanner|x-wipp|x-request-memo|burp|qualys|"
            r"x-wapiti|x-nuclei)",
            locations=("header-name",),
        ),
        regex_rule(
            "scanner-probe-path",
            T,
            "Request for software or files Pitchey does not serve (a scanner's probe)",
            _PROBED_PATHS,
            locations=("path",),
            score=WARNING,
        ),
        regex_rule(
            "bot-automation-agent",
            T,
            "Generic HTTP library or command-line client (often a bot)",
            _AUTOMATION,
            locations=("header.user-agent",),
            paranoia=2,
            score=NOTICE,
        ),
    ),
)
CRITICAL_SCORE = CRITICAL
