// A gSOAP client of wsdl/files.wsdl with MTOM, an independent peer for soapbridge's mock
// (`soapbridge mock wsdl/files.wsdl --attachments mtom|swa`; tests/interop/test_mock_gsoap.py).
//
// Built by the gsoap_files_client fixture (tests/interop/conftest.py), WSDL-first:
//   wsdl2h -o files.h files.wsdl
//   soapcpp2 -j -C -x -L -I/usr/share/gsoap/import files.h
//   g++ -O0 -o files-client files_client.cpp soapC.cpp soapFileSoapProxy.cpp -lgsoap++ -lcrypto
// then run as
//   files-client URL 1.1|1.2 upload N REQUEST_FILE
//       sends Upload with N bytes (byte i is i mod 251) as an MTOM part (SOAP_ENC_MTOM), writes the
//       HTTP request it sent (header and body) to REQUEST_FILE and prints the reply as gSOAP read it
//   files-client URL 1.1|1.2 upload-chunked N REQUEST_FILE
//       the same, sent with chunked transfer coding (SOAP_IO_CHUNK), no Content-Length
//   files-client URL 1.1|1.2 download OUT_FILE
//       sends Download, writes the bytes gSOAP decoded to OUT_FILE, the HTTP reply it read (header
//       and body) to OUT_FILE.reply, and prints how the bytes came
// Output, one "key=value" a line: status (ok, or the fault gSOAP reports, exit status 1), then for
// upload size and sha256 (the reply's fields), for download attachment (1 if gSOAP took the value
// from a MIME part: xop:Include or href="cid:", it then sets the value's id), id, type, size and
// sha256 (OpenSSL's, of the decoded bytes), and the reply's HTTP Content-Type.
//
// gSOAP quirks handled here: the generated namespace table puts SOAP 1.2 first, so SOAP 1.1 gets a
// table of its own (the proxy sends the version of the table's first row); the SOAP 1.2 binding's
// operations get a trailing underscore (Upload_, Download_).
#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "soapFileSoapProxy.h"
#include "FileSoap.nsmap"  // the global table libgsoap++ links against

namespace {

const struct Namespace soap11[] = {
    {"SOAP-ENV", "http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/*/soap-envelope", nullptr},
    {"SOAP-ENC", "http://schemas.xmlsoap.org/soap/encoding/", "http://www.w3.org/*/soap-encoding", nullptr},
    {"xsi", "http://www.w3.org/2001/XMLSchema-instance", "http://www.w3.org/*/XMLSchema-instance", nullptr},
    {"xsd", "http://www.w3.org/2001/XMLSchema", "http://www.w3.org/*/XMLSchema", nullptr},
    {"ns1", "http://soapbridge.dev/samples/files", nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr},
};

std::string reply_content_type;
std::string sent;      // the request as gSOAP wrote it to the socket
std::string received;  // the reply as gSOAP read it from the socket
int (*parse_header)(struct soap *, const char *, const char *) = nullptr;
int (*send_bytes)(struct soap *, const char *, size_t) = nullptr;
size_t (*recv_bytes)(struct soap *, char *, size_t) = nullptr;

int note_header(struct soap *soap, const char *key, const char *val) {
    if (!soap_tag_cmp(key, "Content-Type")) reply_content_type = val;
    return parse_header(soap, key, val);
}

int tee(struct soap *soap, const char *s, size_t n) {
    sent.append(s, n);
    return send_bytes(soap, s, n);
}

size_t tee_in(struct soap *soap, char *s, size_t n) {
    const size_t got = recv_bytes(soap, s, n);
    received.append(s, got);
    return got;
}

void save(const char *path, const std::string &bytes) {
    if (FILE *f = std::fopen(path, "wb")) {
        std::fwrite(bytes.data(), 1, bytes.size(), f);
        std::fclose(f);
    }
}

std::string sha256_hex(const unsigned char *data, size_t size) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(data, size, digest, &length, EVP_sha256(), nullptr);
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}

int failed(FileSoapProxy &proxy) {
    char buf[1024];
    proxy.soap_sprint_fault(buf, sizeof buf);
    for (char *p = buf; *p; ++p) {
        if (*p == '\n' || *p == '\r') *p = ' ';
    }
    std::printf("status=error %d %s\ncontent_type=%s\n", proxy.soap->error, buf, reply_content_type.c_str());
    return 1;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 5 && argc != 6) {
        std::fprintf(stderr, "usage: %s URL 1.1|1.2 upload|upload-chunked N REQUEST_FILE | download OUT_FILE\n", argv[0]);
        return 2;
    }
    const char *url = argv[1];
    const bool soap12 = !std::strcmp(argv[2], "1.2");
    const std::string mode = argv[3];
    FileSoapProxy proxy(url);
    if (!soap12) soap_set_namespaces(proxy.soap, soap11);
    soap_set_mode(proxy.soap, SOAP_C_UTFSTRING);
    soap_set_omode(proxy.soap, SOAP_ENC_MTOM);  // requests as MTOM
    parse_header = proxy.soap->fparsehdr;
    proxy.soap->fparsehdr = note_header;
    send_bytes = proxy.soap->fsend;
    proxy.soap->fsend = tee;
    recv_bytes = proxy.soap->frecv;
    proxy.soap->frecv = tee_in;
    proxy.soap->recv_timeout = 60;
    proxy.soap->send_timeout = 60;

    if ((mode == "upload" || mode == "upload-chunked") && argc == 6) {
        if (mode == "upload-chunked") soap_set_omode(proxy.soap, SOAP_IO_CHUNK);  // no Content-Length
        const long long n = std::atoll(argv[4]);
        auto *data = static_cast<unsigned char *>(soap_malloc(proxy.soap, n ? n : 1));
        for (long long i = 0; i < n; ++i) data[i] = static_cast<unsigned char>(i % 251);
        _ns1__Upload in;
        in.name = "gsoap";
        in.content.__ptr = data;
        in.content.__size = static_cast<int>(n);
        in.content.type = const_cast<char *>("application/octet-stream");  // a type: gSOAP sends it as an MTOM part
        _ns1__UploadResponse out;
        const int rc = soap12 ? proxy.Upload_(&in, out) : proxy.Upload(&in, out);
        save(argv[5], sent);
        if (rc != SOAP_OK) return failed(proxy);
        std::printf("status=ok\nsize=%lld\nsha256=%s\ncontent_type=%s\n", static_cast<long long>(out.size), out.sha256.c_str(),
                    reply_content_type.c_str());
        return 0;
    }
    if (mode == "download" && argc == 5) {
        _ns1__Download in;
        in.name = "gsoap";
        _ns1__DownloadResponse out;
        const int rc = soap12 ? proxy.Download_(&in, out) : proxy.Download(&in, out);
        save((std::string(argv[4]) + ".reply").c_str(), received);
        if (rc != SOAP_OK) return failed(proxy);
        const xsd__base64Binary &c = out.content;
        const size_t size = c.__ptr ? static_cast<size_t>(c.__size) : 0;
        if (FILE *f = std::fopen(argv[4], "wb")) {
            if (size) std::fwrite(c.__ptr, 1, size, f);
            std::fclose(f);
        } else {
            std::perror(argv[4]);
            return 2;
        }
        std::printf("status=ok\nattachment=%d\nid=%s\ntype=%s\nsize=%zu\nsha256=%s\ncontent_type=%s\n", c.id ? 1 : 0, c.id ? c.id : "",
                    c.type ? c.type : "", size, sha256_hex(c.__ptr, size).c_str(), reply_content_type.c_str());
        return 0;
    }
    std::fprintf(stderr, "usage: %s URL 1.1|1.2 upload|upload-chunked N REQUEST_FILE | download OUT_FILE\n", argv[0]);
    return 2;
}
