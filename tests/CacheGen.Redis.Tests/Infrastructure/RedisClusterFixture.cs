using CacheGen.Testing;
using StackExchange.Redis;

namespace CacheGen.Redis.Tests.Infrastructure;

/// <summary>
/// One private Redis Cluster per test class (three masters on loopback), plus a plain cluster-aware client to look at
/// what CacheGen wrote. A cluster has only database 0, so CacheGen's configuration names no database.
/// </summary>
public class RedisClusterFixture : IDisposable
{
    private readonly Lazy<ConnectionMultiplexer> _client;

    public RedisClusterFixture() : this(replicasPerMaster: 0, nodeTimeout: TimeSpan.FromSeconds(5))
    {
    }

    protected RedisClusterFixture(int replicasPerMaster, TimeSpan nodeTimeout)
    {
        Cluster = RedisCluster.Start(masters: 3, replicasPerMaster, nodeTimeout);
        _client = new Lazy<ConnectionMultiplexer>(() => ConnectionMultiplexer.Connect(Cluster.Configuration + ",abortConnect=false"));
    }

    public RedisCluster Cluster { get; }

    /// <summary>The CacheGen configuration string: every node's endpoint.</summary>
    public string Configuration => Cluster.Configuration;

    /// <summary>The cluster seen by a plain StackExchange.Redis client (routes each key to its master).</summary>
    public IDatabase Database => _client.Value.GetDatabase();

    public void Dispose()
    {
        if (_client.IsValueCreated)
            _client.Value.Dispose();
        Cluster.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>Three masters with a replica each and a one-second node timeout, so a killed master is replaced in seconds.</summary>
public sealed class RedisClusterWithReplicasFixture() : RedisClusterFixture(replicasPerMaster: 1, nodeTimeout: TimeSpan.FromSeconds(1));
