using CacheGen.Testing;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CacheGen.Redis.Tests.Infrastructure;

/// <summary>
/// A throwaway certificate authority made in the test, with a server certificate for 127.0.0.1 and a client
/// certificate it signed, written as PEM files (redis-server's format) to a temporary directory.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private TestCertificates(string name)
    {
        Directory = Path.Combine(Path.GetTempPath(), "cachegen-tls-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        DateTimeOffset now = DateTimeOffset.UtcNow;

        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN={name} Test CA, O=CacheGen tests", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        Authority = caRequest.CreateSelfSigned(now.AddHours(-1), now.AddDays(1));
        AuthorityPath = Write("ca.crt", Authority.ExportCertificatePem());

        (ServerCertificatePath, ServerKeyPath) = Issue("server", "CN=127.0.0.1", "1.3.6.1.5.5.7.3.1", now);
        (ClientCertificatePath, ClientKeyPath) = Issue("client", "CN=cachegen-test-client", "1.3.6.1.5.5.7.3.2", now);
    }

    public string Directory { get; }

    /// <summary>The CA certificate.</summary>
    public X509Certificate2 Authority { get; }

    public string AuthorityPath { get; }

    public string ServerCertificatePath { get; }

    public string ServerKeyPath { get; }

    public string ClientCertificatePath { get; }

    public string ClientKeyPath { get; }

    /// <summary>A new CA named <paramref name="name"/> with its server and client certificates.</summary>
    public static TestCertificates Create(string name = "CacheGen") => new(name);

    /// <summary>The files a TLS redis-server (and redis-cli, as a client) needs from these certificates.</summary>
    public RedisTls ForRedis(bool requireClientCertificates = false) =>
        new(ServerCertificatePath, ServerKeyPath, AuthorityPath, ClientCertificatePath, ClientKeyPath, requireClientCertificates);

    private (string Certificate, string Key) Issue(string file, string subject, string extendedUsage, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(extendedUsage)], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Authority, true, false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        using X509Certificate2 certificate = request.Create(Authority, now.AddHours(-1), now.AddDays(1), RandomNumberGenerator.GetBytes(16));
        return (Write(file + ".crt", certificate.ExportCertificatePem()), Write(file + ".key", key.ExportPkcs8PrivateKeyPem()));
    }

    private string Write(string name, string pem)
    {
        string path = Path.Combine(Directory, name);
        File.WriteAllText(path, pem);
        return path;
    }

    public void Dispose()
    {
        Authority.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
