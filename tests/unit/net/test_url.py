import pytest

from plait.net import UrlRefused, parse_url


def test_parses_host_port_and_literal_ip() -> None:
    t = parse_url("HTTPS://Bücher.Example:8443/a/b?c=1#frag")
    assert (t.scheme, t.host, t.port, t.ip) == ("https", "xn--bcher-kva.example", 8443, None)
    assert str(t.url) == "https://xn--bcher-kva.example:8443/a/b?c=1"
    assert t.origin == "https://xn--bcher-kva.example:8443/"
    assert t.netloc == "xn--bcher-kva.example:8443"
    v6 = parse_url("http://[2606:4700::1]/")
    assert (v6.host, v6.port, str(v6.ip), v6.netloc) == (
        "2606:4700::1",
        80,
        "2606:4700::1",
        "[2606:4700::1]",
    )
    assert parse_url("http://8.8.8.8:80/x").netloc == "8.8.8.8"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "file:///etc/passwd",
            "refused file:///: only http and https URLs are fetched, not 'file:'",
        ),
        ("ftp://example.com/x", "not 'ftp:'"),
        ("gopher://example.com:70/_x", "not 'gopher:'"),
        ("data:image/png;base64,AAAA", "refused data:…: only http and https"),
        ("javascript:alert(1)", "not 'javascript:'"),
        ("//example.com/x", "not a URL without a scheme"),
        ("/relative/path", "not a URL without a scheme"),
        ("http://user:pass@example.com/", "refused http://…@example.com/: credentials in a URL"),
        ("http://user@example.com/", "credentials in a URL"),
        ("http://2130706433/", "'2130706433' is not a standard IPv4 address"),
        ("http://0177.0.0.1/", "'0177.0.0.1' is not a standard IPv4 address"),
        ("http://0x7f.0.0.1/", "'0x7f.0.0.1' is not a standard IPv4 address"),
        ("http://0x7f000001/", "is not a standard IPv4 address"),
        ("http://127.1/", "'127.1' is not a standard IPv4 address"),
        ("http://127.0.0.1./", "'127.0.0.1.' is not a standard IPv4 address"),
        ("http://example.0x10/", "is not a standard IPv4 address"),
        ("http://010.0.0.1/", "'010.0.0.1' is not a standard IPv4 address"),
        ("http://1.2.3.04:80/", "'1.2.3.04' is not a standard IPv4 address"),
        ("http://[fe80::1%25eth0]/", "has a zone id"),
        ("http://[::1/", "not a valid URL"),
        ("http://exa mple.com/", "contains a space, a control character or a backslash"),
        ("http://example.com\\@10.0.0.1/", "backslash"),
        ("http://example.com/\r\nX: y", "control character"),
        ("http://exa%20mple.com/", "is not a valid host name"),
        ("http://under_score-.com/", "is not a valid host name"),
        ("http:///path", "the URL has no host"),
        ("http://example.com:99999/", "port 99999 is out of range"),
        ("http://example.com/" + "a" * 9000, "longer than 8192"),
        ("", "only http and https"),
    ],
)
def test_refusals_name_the_problem(url: str, message: str) -> None:
    with pytest.raises(UrlRefused) as info:
        parse_url(url)
    assert message in str(info.value)
    assert "user:pass@" not in str(info.value)  # credentials are never echoed
