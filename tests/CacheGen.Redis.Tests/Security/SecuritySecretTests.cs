using System.Diagnostics;
using CacheGen.Redis.Tests.Infrastructure;
using CacheGen.Testing;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CacheGen.Redis.Tests;

/// <summary>
/// A Redis password never reaches a log event (message, structured values, scopes, exception text) or an exception
/// message, through a failed connect, an outage and a reconnect, a wrong password, or a configuration error. Every
/// event is captured, at every level, including the client library's own when an application plugs its logging in.
/// </summary>
public sealed class SecuritySecretTests
{
    private const string Secret = "Pw-4c1d-SECRET-e9";
    private const string WrongSecret = "Pw-77b0-WRONG-2f";

    private sealed class App : IAsyncDisposable
    {
        private readonly ServiceProvider _provider;

        public App(string configuration, Action<CacheGenOptions>? configure = null)
        {
            var services = new ServiceCollection();
            services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(Logs));
            services.AddCacheGen(o =>
            {
                o.Redis = configuration;
                o.KeyPrefix = "secrets";
                o.RedisTimeout = TimeSpan.FromMilliseconds(500);
                configure?.Invoke(o);
            });
            _provider = services.BuildServiceProvider();
            var loggerFactory = _provider.GetRequiredService<ILoggerFactory>();
            // The client's own connection log goes to the same sink, as an application that shares its logging would.
            _provider.GetRequiredService<IOptions<CacheGenOptions>>().Value.ConfigureRedis += c => c.LoggerFactory = loggerFactory;
            Cache = _provider.GetRequiredService<HybridCache>();
        }

        public FullLogRecorder Logs { get; } = new();

        public HybridCache Cache { get; }

        internal RedisHybridCache.TestHooks Hooks => ((RedisHybridCache)Cache).Hooks;

        /// <summary>Reads, writes and evicts; none of it may throw whatever state Redis is in.</summary>
        public async Task<string> Exercise(string value)
        {
            string key = Entry.UniqueKey();
            string read = await Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(value), Entry.NoLocal, Entry.Posts)
                .AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            await Cache.SetAsync(key, value, tags: Entry.Posts).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            await Cache.RemoveAsync(key).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            await Cache.RemoveByTagAsync("posts").AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            return read;
        }

        public ValueTask DisposeAsync() => _provider.DisposeAsync();
    }

    private static string Configuration(RedisServer server, string password, string? user = null) =>
        $"{server.Configuration},defaultDatabase=1{(user is null ? "" : ",user=" + user)},password={password},connectTimeout=1000";

    private static async Task WaitForWarning(App app, int eventId)
    {
        var clock = Stopwatch.StartNew();
        while (!app.Logs.Events.Any(e => e.Contains($" {eventId}/")) && clock.Elapsed < TimeSpan.FromSeconds(15))
            await Task.Delay(50);
        Assert.Contains(app.Logs.Events, e => e.Contains($" {eventId}/"));
    }

    [Theory]
    [InlineData("requirepass")]
    [InlineData("acl user")]
    public async Task A_wrong_password_is_logged_as_a_failure_without_either_password(string kind)
    {
        using RedisServer server = kind == "requirepass" ? RedisServer.Start("--requirepass", Secret) : RedisServer.Start();
        string? user = null;
        if (kind == "acl user")
        {
            user = "cache-user";
            Assert.Equal("OK", server.Cli("ACL", "SETUSER", user, "on", ">" + Secret, "~*", "&*", "+@all"));
        }

        await using var app = new App(Configuration(server, WrongSecret, user));
        Assert.Equal("source", await app.Exercise("source"));
        await WaitForWarning(app, 40);

        app.Logs.AssertNowhere(WrongSecret);
        app.Logs.AssertNowhere(Secret);
    }

    [Fact]
    public async Task With_redis_down_at_start_and_back_later_the_password_is_never_logged()
    {
        using RedisServer server = RedisServer.Start("--requirepass", Secret);
        server.Kill();
        App app;
        try
        {
            app = new App(Configuration(server, Secret));
            Assert.Equal("source", await app.Exercise("source"));
            await WaitForWarning(app, 40);
        }
        finally
        {
            server.Restart();
        }
        await using (app)
        {
            await WaitUntilCachingWorks(app);
            app.Logs.AssertNowhere(Secret);
        }
    }

    [Fact]
    public async Task Through_a_kill_and_a_restart_the_password_is_never_logged()
    {
        using RedisServer server = RedisServer.Start("--requirepass", Secret);
        await using var app = new App(Configuration(server, Secret));
        await app.Hooks.BackplaneReady.WaitAsync(TimeSpan.FromSeconds(20));
        await WaitUntilCachingWorks(app);

        server.Kill();
        Assert.Equal("during", await app.Exercise("during"));
        await WaitForWarning(app, 3);
        server.Restart();

        await WaitUntilCachingWorks(app);
        var clock = Stopwatch.StartNew();
        while (app.Hooks.BackplaneResubscriptions == 0 && clock.Elapsed < TimeSpan.FromSeconds(20))
            await Task.Delay(50);
        Assert.Contains(app.Logs.Events, e => e.Contains(" 4/RedisConnectionRestored"));
        Assert.Contains(app.Logs.Events, e => e.Contains(" 10/RedisReadFailed"));
        // The client's own connection log was captured too (it logs its configuration, masked).
        Assert.Contains(app.Logs.Events, e => e.Contains("StackExchange.Redis.ConnectionMultiplexer:") && e.Contains("password=*****"));
        app.Logs.AssertNowhere(Secret);
    }

    private static async Task WaitUntilCachingWorks(App app)
    {
        var clock = Stopwatch.StartNew();
        string key = Entry.UniqueKey();
        int calls = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            await app.Cache.GetOrCreateAsync(key, _ => { calls++; return ValueTask.FromResult("v"); }, Entry.NoLocal, Entry.Posts);
            int before = calls;
            await app.Cache.GetOrCreateAsync(key, _ => { calls++; return ValueTask.FromResult("v"); }, Entry.NoLocal, Entry.Posts);
            if (calls == before)
                return;
            await Task.Delay(100);
        }
        Assert.Fail("caching did not resume");
    }

    [Fact]
    public async Task The_startup_log_shows_the_configuration_without_the_password_however_it_was_given()
    {
        using RedisServer server = RedisServer.Start("--requirepass", Secret);
        await using var inString = new App(Configuration(server, Secret));
        // A password that cannot be written in a configuration string (it has a comma) goes through ConfigureRedis.
        await using var inCode = new App($"{server.Configuration},defaultDatabase=1", o => o.ConfigureRedis = c => c.Password = Secret);
        foreach (App app in new[] { inString, inCode })
        {
            await WaitUntilCachingWorks(app);
            string configured = Assert.Single(app.Logs.Events, e => e.Contains(" 2/RedisConfigured"));
            Assert.Contains(server.Configuration, configured);
            Assert.Contains("password=*****", configured);
            app.Logs.AssertNowhere(Secret);
        }
    }

    public static TheoryData<string, string> BadConfigurations => new()
    {
        // An unknown keyword next to a password.
        { $"127.0.0.1:6379,password={Secret},notAnOption=1", Secret },
        // A password with a comma: SE.Redis reads its second half as a keyword and would quote it back.
        { "127.0.0.1:6379,password=Half-One-aa11,Half-Two-bb22=x", "Half-Two-bb22" },
    };

    [Theory]
    [MemberData(nameof(BadConfigurations))]
    public async Task An_invalid_configuration_string_is_rejected_without_quoting_the_password(string configuration, string secret)
    {
        var logs = new FullLogRecorder();
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        services.AddCacheGen(o => o.Redis = configuration);
        await using ServiceProvider provider = services.BuildServiceProvider();

        var resolving = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<HybridCache>());
        Assert.Contains("CacheGen:Redis", resolving.Message);
        // Host start runs the same validation (ValidateOnStart).
        var starting = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        foreach (Exception error in new Exception[] { resolving, starting })
        {
            Assert.DoesNotContain(secret, error.ToString(), StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(secret, string.Join(" ", ((OptionsValidationException)error).Failures), StringComparison.OrdinalIgnoreCase);
        }
        Assert.All(logs.Events, e => Assert.DoesNotContain(secret, e, StringComparison.OrdinalIgnoreCase));
    }
}
