/**
 * The examples of the STIX 2.1 specification's patterning section, each with
 * the VAST query it becomes or the construct it is skipped for.
 */
import type { PatternRow } from "./pattern_expectation.ts";

/** Hashes the examples use. */
export const SHA256_A = "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f";
const SHA256_B = "bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18c859ee52a9c";
export const MD5_A = "cead3f77f6cda6ec00f57d76c9a6879f";
export const MD5_B = "79054025255fb1a26e4bc422aef54eb4";

/** The examples of the STIX 2.1 specification's patterning section. */
export const SPEC_EXAMPLES: readonly PatternRow[] = [
  [`[file:hashes.'SHA-256' = '${SHA256_A}']`, { query: `"${SHA256_A}" == file.hash.sha256` }],
  [
    String
      .raw`[email-message:from_ref.value MATCHES '.+\\@example\\.com$' AND email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\.exe$']`,
    { unsupported: "object-path", says: "VAST has no field for email-message:from_ref.value" },
  ],
  [
    `[file:hashes.'SHA-256' = '${SHA256_A}' AND file:mime_type = 'application/x-pdf']`,
    { unsupported: "object-path", says: "file:mime_type is not translated" },
  ],
  [
    `[file:hashes.'SHA-256' = '${SHA256_B}' OR file:hashes.MD5 = '${MD5_A}'] AND [file:hashes.'SHA-256' = '${SHA256_A}']`,
    { unsupported: "observation-and", says: "observation operator AND" },
  ],
  [
    String
      .raw`([file:hashes.MD5 = '${MD5_B}'] FOLLOWEDBY [win-registry-key:key = 'HKEY_LOCAL_MACHINE\\foo\\bar']) WITHIN 300 SECONDS`,
    { unsupported: "qualifier", says: "qualifier WITHIN" },
  ],
  [
    "[user-account:account_type = 'unix' AND user-account:user_id = '1007' AND user-account:account_login = 'Peter'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1008' AND user-account:account_login = 'Paul'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1009' AND user-account:account_login = 'Mary']",
    { unsupported: "observation-and", says: "observation operator AND" },
  ],
  [
    String
      .raw`[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND artifact:payload_bin MATCHES '\\xd4\\xc3\\xb2\\xa1\\x02\\x00\\x04\\x00']`,
    { unsupported: "object-path", says: "VAST has no field for artifact:mime_type" },
  ],
  [
    String
      .raw`[file:name = 'foo.dll' AND file:parent_directory_ref.path = 'C:\\Windows\\System32']`,
    { unsupported: "object-path", says: "file:name is not translated" },
  ],
  [
    "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
    {
      unsupported: "object-path",
      says: "VAST has no field for file:extensions.'windows-pebinary-ext'.sections[*].entropy",
    },
  ],
  [
    "[file:mime_type = 'image/bmp' AND file:magic_number_hex = h'ffd8']",
    { unsupported: "object-path", says: "file:mime_type is not translated" },
  ],
  [
    "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.33/32']",
    { query: "net.dst.ip == 203.0.113.33" },
  ],
  [
    "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS",
    { unsupported: "qualifier", says: "qualifier REPEATS, WITHIN" },
  ],
  [
    "[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = '198.51.100.1/32']",
    {
      unsupported: "object-path",
      says: "VAST has no field for domain-name:resolves_to_refs[*].value",
    },
  ],
  [
    "[url:value = 'http://example.com/foo' OR url:value = 'http://example.com/bar']",
    { query: '"http://example.com/foo" == net.uri || "http://example.com/bar" == net.uri' },
  ],
  [
    "[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']",
    { unsupported: "object-path", says: "VAST has no field for x509-certificate:issuer" },
  ],
  [
    String
      .raw`[windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\CryptoLocker\\Files' OR windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\Microsoft\\CurrentVersion\\Run\\CryptoLocker_0388']`,
    { unsupported: "object-path", says: "VAST has no field for windows-registry-key:key" },
  ],
  [
    "[(file:name = 'pdf.exe' OR file:size = '371712') AND file:created = t'2014-01-13T07:03:17Z']",
    { unsupported: "object-path", says: "file:name is not translated" },
  ],
  [
    "[email-message:sender_ref.value = 'jdoe@example.com' AND email-message:subject = 'Conference Info']",
    { unsupported: "object-path", says: "VAST has no field for email-message:sender_ref.value" },
  ],
  [
    "[x-usb-device:usbdrive.serial_number = '575833314133343231313937']",
    {
      unsupported: "object-path",
      says: "VAST has no field for x-usb-device:usbdrive.serial_number",
    },
  ],
  [
    "[process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachine Root$'] FOLLOWEDBY [process:command_line MATCHES'^.+>-add GlobalSign.cer -c -s -r localMachineTrustedPublisher$'] WITHIN 300 SECONDS",
    { unsupported: "followedby", says: "observation operator FOLLOWEDBY" },
  ],
  [
    "[network-traffic:dst_ref.value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']",
    { query: "net.dst.ip in 2001:db8:dead:beef::/64" },
  ],
  [
    String
      .raw`([file:name = 'foo.dll'] AND [win-registry-key:key = 'HKEY_LOCAL_MACHINE\\foo\\bar']) OR [process:name = 'fooproc' OR process:name = 'procfoo']`,
    { unsupported: "observation-and", says: "observation operator AND" },
  ],
  // The examples of the section's operator, observation and qualifier definitions.
  [
    "[ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.33/32' OR ipv6-addr:value = '2001:0db8:dead:beef:dead:beef:dead:0001/128']",
    { query: "198.51.100.1 || 203.0.113.33 || 2001:0db8:dead:beef:dead:beef:dead:0001" },
  ],
  ["[ipv4-addr:value ISSUBSET '198.51.100.0/24']", { query: ":addr in 198.51.100.0/24" }],
  [
    "[ipv4-addr:value ISSUPERSET '198.51.100.0/24']",
    { unsupported: "issuperset", says: "operator ISSUPERSET on ipv4-addr:value" },
  ],
  [
    String.raw`[directory:path LIKE 'C:\\Windows\\%\\foo']`,
    { unsupported: "object-path", says: "VAST has no field for directory:path" },
  ],
  [
    String.raw`[directory:path MATCHES '^C:\\Windows\\w+$']`,
    { unsupported: "object-path", says: "VAST has no field for directory:path" },
  ],
  [
    "[file:name IN ('proccy', 'proximus', 'badproc')]",
    { unsupported: "object-path", says: "file:name is not translated" },
  ],
  [
    "[EXISTS windows-registry-key:values]",
    { unsupported: "exists", says: "EXISTS test on windows-registry-key" },
  ],
  [
    `([file:hashes.MD5 = '${MD5_B}']) REPEATS 5 TIMES`,
    { unsupported: "qualifier", says: "qualifier REPEATS" },
  ],
  [
    "[file:name = 'foo.dll'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
    { unsupported: "qualifier", says: "qualifier START/STOP" },
  ],
  [
    `[file:hashes.MD5 = '${MD5_B}'] AND [file:mime_type = 'application/x-pdf']`,
    { unsupported: "observation-and", says: "observation operator AND" },
  ],
  [
    `[file:hashes.'SHA-256' = '${SHA256_A}'] FOLLOWEDBY [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo']`,
    { unsupported: "followedby", says: "observation operator FOLLOWEDBY" },
  ],
];
