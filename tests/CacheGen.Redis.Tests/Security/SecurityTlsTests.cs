using CacheGen.Testing;
using CacheGen.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Redis.Tests;

/// <summary>
/// TLS to a redis-server that listens on a TLS port only, with a certificate authority made by the test. Trusting the
/// CA is the user's call (<see cref="CacheGenOptions.ConfigureRedis"/>); anything else must fail the connection and
/// leave the application serving from the source.
/// </summary>
public sealed class SecurityTlsTests : IDisposable
{
    private readonly TestCertificates _certificates = TestCertificates.Create();

    public void Dispose() => _certificates.Dispose();

    // Database 1, like the other tests, so redis-cli's checks below say "-n 1".
    private static string Configuration(RedisServer server) => server.Configuration + ",defaultDatabase=1";

    private static Func<CancellationToken, ValueTask<string>> Source(List<string> calls, string value) => _ =>
    {
        lock (calls)
            calls.Add(value);
        return ValueTask.FromResult(value);
    };

    [Fact]
    public async Task With_the_test_CA_trusted_the_cache_reads_through_evicts_and_publishes_over_tls()
    {
        using var server = RedisServer.StartTls(_certificates.ForRedis());
        void Trust(CacheGenOptions o) => o.ConfigureRedis = c => c.TrustIssuer(_certificates.AuthorityPath);
        await using var first = CacheInstance.Create(Configuration(server), Trust);
        await using var second = CacheInstance.Create(Configuration(server), Trust);
        await Task.WhenAll(first.Hooks.BackplaneReady, second.Hooks.BackplaneReady).WaitAsync(TimeSpan.FromSeconds(20));

        var calls = new List<string>();
        string key = Entry.UniqueKey();
        Assert.Equal("v1", await first.Cache.GetOrCreateAsync(key, Source(calls, "v1"), tags: Entry.Posts));
        await first.SettledAsync();
        // The second instance finds it in Redis: it went over the TLS connection.
        Assert.Equal("v1", await second.Cache.GetOrCreateAsync(key, Source(calls, "unused"), tags: Entry.Posts));
        Assert.Equal(["v1"], calls);
        Assert.Equal("1", server.Cli("-n", "1", "EXISTS", Entry.RedisKey(key)));

        // A region eviction on one instance reaches the other's in-process copy through the backplane.
        await first.Cache.RemoveByTagAsync("posts");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (second.Hooks.BackplaneMessagesApplied == 0 && clock.Elapsed < TimeSpan.FromSeconds(10))
            await Task.Delay(20);
        Assert.Equal("v2", await second.Cache.GetOrCreateAsync(key, Source(calls, "v2"), tags: Entry.Posts));
        Assert.Equal(["v1", "v2"], calls);
        await second.SettledAsync();
        // No call failed (a first SUBSCRIBE that raced the connection, event 14, is retried by design).
        Assert.DoesNotContain(first.Logs.Lines.Concat(second.Logs.Lines), l => l.Level >= Microsoft.Extensions.Logging.LogLevel.Warning && l.EventId.Id != CacheGenLogEvents.BackplaneSubscribeFailed);
    }

    public static TheoryData<string> UntrustedSetups => ["system trust only", "another CA trusted"];

    [Theory]
    [MemberData(nameof(UntrustedSetups))]
    public async Task With_an_untrusted_server_certificate_the_connection_fails_and_the_app_serves_from_the_source(string setup)
    {
        using var server = RedisServer.StartTls(_certificates.ForRedis());
        using var otherAuthority = TestCertificates.Create("Other");
        await using var instance = CacheInstance.Create(Configuration(server), o =>
        {
            o.RedisTimeout = TimeSpan.FromMilliseconds(500);
            if (setup == "another CA trusted")
                o.ConfigureRedis = c => c.TrustIssuer(otherAuthority.AuthorityPath);
        });

        var calls = new List<string>();
        string key = Entry.UniqueKey();
        for (int i = 1; i <= 3; i++)
        {
            string value = await instance.Cache.GetOrCreateAsync(key, Source(calls, "source " + i), Entry.NoLocal, Entry.Posts)
                .AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal("source " + i, value);
        }
        await instance.Cache.RemoveByTagAsync("posts").AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        // Nothing reached Redis, and the failure is in the log.
        Assert.Equal("0", server.Cli("-n", "1", "DBSIZE"));
        await WaitForConnectionFailureLogged(instance);
    }

    [Fact]
    public async Task A_server_that_requires_client_certificates_accepts_one_from_ConfigureRedis()
    {
        using var server = RedisServer.StartTls(_certificates.ForRedis(requireClientCertificates: true));
        await using var withCertificate = CacheInstance.Create(Configuration(server), o => o.ConfigureRedis = c =>
        {
            c.TrustIssuer(_certificates.AuthorityPath);
            c.SetUserPemCertificate(_certificates.ClientCertificatePath, _certificates.ClientKeyPath);
        });
        await using var without = CacheInstance.Create(Configuration(server), o =>
        {
            o.RedisTimeout = TimeSpan.FromMilliseconds(500);
            o.ConfigureRedis = c => c.TrustIssuer(_certificates.AuthorityPath);
        });

        var calls = new List<string>();
        string key = Entry.UniqueKey();
        Assert.Equal("stored", await withCertificate.Cache.GetOrCreateAsync(key, Source(calls, "stored"), Entry.NoLocal, Entry.Posts));
        Assert.Equal("stored", await withCertificate.Cache.GetOrCreateAsync(key, Source(calls, "unused"), Entry.NoLocal, Entry.Posts));
        Assert.Equal("1", server.Cli("-n", "1", "EXISTS", Entry.RedisKey(key)));

        // Without a certificate the server refuses the handshake: the source answers.
        Assert.Equal("source", await without.Cache.GetOrCreateAsync(key, Source(calls, "source"), Entry.NoLocal, Entry.Posts)
            .AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(["stored", "source"], calls);
        await WaitForConnectionFailureLogged(without);
    }

    private static async Task WaitForConnectionFailureLogged(CacheInstance instance)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!instance.Logs.WithEventId(CacheGenLogEvents.RedisNotConnectedAtStart).Any() && clock.Elapsed < TimeSpan.FromSeconds(15))
            await Task.Delay(50);
        LogLine failure = Assert.Single(instance.Logs.WithEventId(CacheGenLogEvents.RedisNotConnectedAtStart));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, failure.Level);
        Assert.Contains("127.0.0.1", failure.Message);
        Assert.NotNull(failure.Exception);
    }
}
