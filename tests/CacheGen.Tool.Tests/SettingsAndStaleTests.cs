using CacheGen.Infrastructure;
using CacheGen.Testing;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace CacheGen.Tool.Tests;

/// <summary>
/// <c>cachegen</c> as a user runs it in the app's folder: the settings come from the app's <c>appsettings.json</c> (and
/// the environment's file), the command line still wins; and an entry kept past its expiry for a fail-safe method's
/// stale window says it is stale.
/// </summary>
public sealed class SettingsAndStaleTests : IAsyncLifetime
{
    private const string Password = "tool-settings-secret-41c9";

    private readonly RedisServer _server = RedisServer.Start("--requirepass", Password);
    private readonly DirectoryInfo _appFolder = Directory.CreateTempSubdirectory("cachegen-app-");
    private ServiceProvider _app = null!;
    private ServiceProvider _fresh = null!;

    private string Redis => _server.Configuration + ",defaultDatabase=2,password=" + Password;

    /// <summary>A clock an hour behind: entries it writes expired, by their envelope, an hour ago.</summary>
    private sealed class HourAgo : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() - TimeSpan.FromHours(1);
    }

    // A fail-safe method: 10 s fresh, then kept two hours for its stale window (Redis keeps it that long).
    private static readonly CachedMethod FailSafe = new("Shop.Catalogue.GetAsync", "products", new() { Expiration = TimeSpan.FromSeconds(10) })
    {
        StaleFor = TimeSpan.FromHours(2),
    };

    public async Task InitializeAsync()
    {
        _app = await FillAsync(new HourAgo(), "{products}:product:1");
        _fresh = await FillAsync(TimeProvider.System, "{products}:product:2");
    }

    /// <summary>An app whose clock is <paramref name="clock"/> fills <paramref name="key"/> through a fail-safe method.</summary>
    private async Task<ServiceProvider> FillAsync(TimeProvider clock, string key)
    {
        var services = new ServiceCollection();
        services.AddSingleton(clock);
        services.AddCacheGen(o =>
        {
            o.Redis = Redis;
            o.KeyPrefix = "shop";
            o.RedisTimeout = TimeSpan.FromSeconds(5);
        });
        ServiceProvider app = services.BuildServiceProvider();
        var cache = (IMethodCache)app.GetRequiredService<HybridCache>();
        await cache.GetOrCreateAsync(FailSafe, key, 0, static (_, _) => ValueTask.FromResult("kettle"), null, null, default);
        // A miss answers before its Redis write lands: wait for the entry the tool is to find.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (_server.Cli("-a", Password, "--no-auth-warning", "-n", "2", "EXISTS", "shop:1:" + key) != "1")
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "the fill's Redis write never landed");
            await Task.Delay(10);
        }
        return app;
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _fresh.DisposeAsync();
        _server.Dispose();
        _appFolder.Delete(recursive: true);
    }

    private void AppSettings(string file, string redis, string prefix) =>
        File.WriteAllText(Path.Combine(_appFolder.FullName, file),
            $$"""{ "Logging": { "LogLevel": { "Default": "Warning" } }, "CacheGen": { "Redis": "{{redis}}", "KeyPrefix": "{{prefix}}" } }""");

    [Fact]
    public async Task In_the_apps_folder_it_reads_appsettings_json_and_the_command_line_wins()
    {
        AppSettings("appsettings.json", Redis, "shop");
        var (exitCode, output, errors) = await Cachegen.RunInAsync(_appFolder.FullName, "regions");
        Assert.True(exitCode == 0, errors);
        Assert.Matches(@"(?m)^products\s+\d+\s+2\s+", output);
        Assert.DoesNotContain(Password, output + errors);

        // A wrong prefix in the file, the right one on the command line: the command line wins, as in the app.
        AppSettings("appsettings.json", Redis, "elsewhere");
        (exitCode, output, errors) = await Cachegen.RunInAsync(_appFolder.FullName, "regions");
        Assert.Equal(3, exitCode);
        Assert.Contains("no CacheGen data under prefix \"elsewhere:1:\"", errors);
        (exitCode, output, errors) = await Cachegen.RunInAsync(_appFolder.FullName, "regions", "--CacheGen:KeyPrefix=shop");
        Assert.True(exitCode == 0, errors);
        Assert.Matches(@"(?m)^products\s+\d+\s+2\s+", output);
    }

    [Fact]
    public async Task An_entry_past_its_expiry_in_its_stale_window_shows_as_stale()
    {
        var (exitCode, output, errors) = await Cachegen.RunAsync("show", "{products}:product:1", "--CacheGen:Redis=" + Redis, "--CacheGen:KeyPrefix=shop");
        Assert.True(exitCode == 0, errors);
        // Expired about an hour ago by its envelope, and Redis still has it for the two-hour window.
        Assert.Matches(@"expires\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC \(STALE for 3\d{3}(\.\d+)? s: a miss, served only by a fail-safe method when its data call fails\)", output);
        Assert.Matches(@"ttl\s+\d{4}(\.\d+)? s \(Redis\)", output);

        // Written now: fresh for (up to) its 10 s.
        (exitCode, output, errors) = await Cachegen.RunAsync("show", "{products}:product:2", "--CacheGen:Redis=" + Redis, "--CacheGen:KeyPrefix=shop");
        Assert.True(exitCode == 0, errors);
        Assert.Matches(@"expires\s+\S+ \S+ UTC \(fresh for \d(\.\d+)? s\)", output);
    }
}
