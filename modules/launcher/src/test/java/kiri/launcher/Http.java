package kiri.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/** A tiny HTTP client for tests (java.base's HttpURLConnection: the launcher module does not read java.net.http). */
final class Http {
    private Http() {
    }

    record Reply(int status, String contentType, String body) {
    }

    static Reply get(String url) throws IOException {
        return request("GET", url);
    }

    static Reply request(String method, String url) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
        try {
            c.setRequestMethod(method);
            c.setConnectTimeout(30_000);
            c.setReadTimeout(60_000);
            int status = c.getResponseCode();
            InputStream in = status < 400 ? c.getInputStream() : c.getErrorStream();
            String body = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
            String type = c.getContentType();
            return new Reply(status, type == null ? "" : type, body);
        } finally {
            c.disconnect();
        }
    }
}
