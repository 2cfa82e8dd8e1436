using System.Globalization;
using System.Text;
using CacheGen.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace CacheGen.Tool;

/// <summary>
/// The Redis and key prefix to inspect, bound exactly as the app binds them: the <c>CacheGen</c> section through
/// <c>AddCacheGen()</c>, from the sources an ASP.NET Core app reads, in its order (later wins): <c>appsettings.json</c>
/// and <c>appsettings.{Environment}.json</c> in the current folder, the environment, the command line. The password
/// is never printed.
/// </summary>
internal sealed class Target
{
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        ["--redis"] = "CacheGen:Redis",
        ["--prefix"] = "CacheGen:KeyPrefix",
        ["--key-version"] = "CacheGen:KeyVersion",
    };

    private readonly ConfigurationOptions _redis;

    private Target(CacheGenOptions options, IConfiguration configuration)
    {
        Options = options;
        Configuration = configuration;
        _redis = ConfigurationOptions.Parse(options.Redis!);
        Keys = new RedisKeyLayout(options.KeyPrefix, options.KeyVersion);
    }

    public CacheGenOptions Options { get; }

    public IConfiguration Configuration { get; }

    public RedisKeyLayout Keys { get; }

    public int Database => _redis.DefaultDatabase ?? 0;

    public static Target From(string[] settings)
    {
        // Run from the app's folder, the tool reads what the app reads there; the environment name as the host finds it.
        string environment = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT")
            ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT")
            ?? "Production";
        IConfiguration configuration = new ConfigurationBuilder()
            .SetBasePath(Directory.GetCurrentDirectory())
            .AddJsonFile("appsettings.json", optional: true)
            .AddJsonFile($"appsettings.{environment}.json", optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(settings, Aliases)
            .Build();
        using ServiceProvider services = Services(configuration);
        CacheGenOptions options = services.GetRequiredService<IOptions<CacheGenOptions>>().Value;
        if (options.Validate() is { } problem)
            throw new InvalidOperationException(problem);
        if (string.IsNullOrWhiteSpace(options.Redis))
            throw new InvalidOperationException("no Redis given: run it in the app's folder (its appsettings.json), pass --CacheGen:Redis=CONFIG (the app's CacheGen:Redis setting) or set CacheGen__Redis");
        return new Target(options, configuration);
    }

    /// <summary>The app's own registration: <c>AddCacheGen()</c> over this configuration.</summary>
    public static ServiceProvider Services(IConfiguration configuration, Action<CacheGenOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddCacheGen(configure);
        return services.BuildServiceProvider();
    }

    /// <summary>The endpoints and database, never the password or any other part of the configuration string.</summary>
    public string Describe() =>
        string.Join(",", _redis.EndPoints.Select(e => e.ToString())) + " db " + Database.ToString(CultureInfo.InvariantCulture);

    /// <summary>Removes the password from a message that might quote the configuration (client errors do, at times).</summary>
    public string Redact(string message) =>
        string.IsNullOrEmpty(_redis.Password) ? message : message.Replace(_redis.Password, "*****", StringComparison.Ordinal);

    public async Task<ConnectionMultiplexer> ConnectAsync()
    {
        ConfigurationOptions options = _redis.Clone();
        // A person waits at the prompt: fail at once rather than retry in the background.
        options.AbortOnConnectFail = true;
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    /// <summary>The primaries to scan (each node of a cluster holds its own keys).</summary>
    public static IEnumerable<IServer> Primaries(ConnectionMultiplexer connection) =>
        connection.GetServers().Where(s => s.IsConnected && !s.IsReplica);

    /// <summary>A SCAN MATCH pattern for keys that start with <paramref name="text"/> (its glob characters escaped).</summary>
    public static string StartsWith(string text)
    {
        var pattern = new StringBuilder(text.Length + 1);
        foreach (char c in text)
        {
            if (c is '*' or '?' or '[' or ']' or '\\')
                pattern.Append('\\');
            pattern.Append(c);
        }
        return pattern.Append('*').ToString();
    }

    /// <summary>
    /// True if any of CacheGen's own keys exists under the prefix: a generation, the clear epoch, a lease (every
    /// internal key starts with <c>#</c> after the prefix). SCAN, stopping at the first.
    /// </summary>
    public async Task<bool> HasCacheGenDataAsync(ConnectionMultiplexer connection)
    {
        string pattern = StartsWith(Keys.Prefix + RedisKeyLayout.InternalMarker);
        foreach (IServer server in Primaries(connection))
        {
            await foreach (RedisKey _ in server.KeysAsync(Database, pattern, pageSize: 1000))
                return true;
        }
        return false;
    }
}
