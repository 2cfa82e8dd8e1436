using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace CacheGen.Redis.Tests.Infrastructure;

/// <summary>
/// A private redis-server that speaks TLS only (<c>--port 0 --tls-port N</c>) on loopback, with the certificates of
/// a <see cref="TestCertificates"/>. Started and stopped by pid; readiness is a PING through redis-cli over TLS.
/// </summary>
public sealed class TlsRedisServer : IDisposable
{
    private readonly TestCertificates _certificates;
    private readonly bool _requireClientCertificates;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "cachegen-redis-tls-" + Guid.NewGuid().ToString("N"));
    private Process? _process;

    private TlsRedisServer(TestCertificates certificates, bool requireClientCertificates)
    {
        _certificates = certificates;
        _requireClientCertificates = requireClientCertificates;
        Directory.CreateDirectory(_directory);
        Port = FreePort();
    }

    public int Port { get; }

    /// <summary>The StackExchange.Redis configuration string: TLS on, database 1.</summary>
    public string Configuration => $"127.0.0.1:{Port},ssl=true,defaultDatabase=1";

    /// <summary>Starts the server; with <paramref name="requireClientCertificates"/> a client must present a certificate the CA signed.</summary>
    public static TlsRedisServer Start(TestCertificates certificates, bool requireClientCertificates = false)
    {
        var server = new TlsRedisServer(certificates, requireClientCertificates);
        try
        {
            server.Launch();
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Runs one command through redis-cli over TLS (with the client certificate) and returns its output.</summary>
    public string Cli(params string[] arguments)
    {
        var info = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { "-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "--tls", "--cacert", _certificates.AuthorityPath,
                     "--cert", _certificates.ClientCertificatePath, "--key", _certificates.ClientKeyPath })
            info.ArgumentList.Add(argument);
        foreach (string argument in arguments)
            info.ArgumentList.Add(argument);
        using Process cli = Process.Start(info)!;
        Task<string> errors = cli.StandardError.ReadToEndAsync();
        string output = cli.StandardOutput.ReadToEnd();
        cli.WaitForExit();
        return (output + errors.Result).Trim();
    }

    private void Launch()
    {
        var info = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _directory };
        foreach (string argument in new[]
                 {
                     "--port", "0", "--tls-port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                     "--tls-cert-file", _certificates.ServerCertificatePath, "--tls-key-file", _certificates.ServerKeyPath,
                     "--tls-ca-cert-file", _certificates.AuthorityPath, "--tls-auth-clients", _requireClientCertificates ? "yes" : "no",
                     "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", _directory, "--protected-mode", "no",
                 })
            info.ArgumentList.Add(argument);
        _process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start.");
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"redis-server (TLS) exited with code {_process.ExitCode}: {string.Join("\n", output)}");
            if (Cli("PING") == "PONG")
                return;
            Thread.Sleep(50);
        }
        throw new TimeoutException($"redis-server (TLS) did not answer PING on port {Port} within 20 s: {string.Join("\n", output)}");
    }

    public void Dispose()
    {
        if (_process is not null)
        {
            try
            {
                _process.Kill();
                _process.WaitForExit(10_000);
            }
            catch (InvalidOperationException)
            {
            }
            _process.Dispose();
            _process = null;
        }
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
