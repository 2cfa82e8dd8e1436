using CacheGen.Testing;
using StackExchange.Redis;

namespace CacheGen.Redis.Tests.Infrastructure;

/// <summary>One private redis-server per test class, plus a plain client on database 1 to look at what CacheGen wrote.</summary>
public class RedisFixture : IDisposable
{
    private readonly Lazy<ConnectionMultiplexer> _client;

    public RedisFixture() : this([])
    {
    }

    protected RedisFixture(string[] serverArguments, string? password = null)
    {
        Server = RedisServer.Start(serverArguments);
        Password = password;
        _client = new Lazy<ConnectionMultiplexer>(() =>
            ConnectionMultiplexer.Connect(Server.Configuration + (password is null ? "" : ",password=" + password) + ",abortConnect=false"));
    }

    public RedisServer Server { get; }

    public string? Password { get; }

    /// <summary>The CacheGen configuration string for this server: database 1, as in the sample's appsettings.</summary>
    public string Configuration => Server.Configuration + ",defaultDatabase=1" + (Password is null ? "" : ",password=" + Password);

    /// <summary>Database 1 seen by a plain StackExchange.Redis client.</summary>
    public IDatabase Database => _client.Value.GetDatabase(1);

    /// <summary>Runs redis-cli against this server (with the password, when there is one).</summary>
    public string Cli(params string[] arguments) =>
        Password is null ? Server.Cli(arguments) : Server.Cli(["-a", Password, "--no-auth-warning", .. arguments]);

    public long DatabaseSize(int database) => long.Parse(Cli("-n", database.ToString(), "DBSIZE"));

    public void Dispose()
    {
        if (_client.IsValueCreated)
            _client.Value.Dispose();
        Server.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A server that requires a password, for the test that it never shows up in a log.</summary>
public sealed class PasswordRedisFixture() : RedisFixture(["--requirepass", Secret], Secret)
{
    public const string Secret = "secret123";
}
