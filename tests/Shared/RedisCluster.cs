using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace CacheGen.Testing;

/// <summary>
/// A private Redis Cluster on loopback: <c>masters</c> redis-server processes (plus replicas) started with
/// <c>--cluster-enabled yes</c>, joined by <c>redis-cli --cluster create</c>, and ready once every node reports
/// <c>cluster_state:ok</c>, agrees on who serves which slots, and every replica is in sync. Torn down by pid.
/// </summary>
public sealed class RedisCluster : IDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private readonly List<RedisServer> _nodes = [];
    private readonly HashSet<RedisServer> _killed = [];

    private RedisCluster()
    {
    }

    /// <summary>Every node started, killed ones included (a killed node's port is not reused).</summary>
    public IReadOnlyList<RedisServer> Nodes => _nodes;

    /// <summary>The nodes still running.</summary>
    public IEnumerable<RedisServer> LiveNodes => _nodes.Where(n => !_killed.Contains(n));

    /// <summary>A StackExchange.Redis configuration string naming every node (the client discovers the topology itself).</summary>
    public string Configuration => string.Join(",", _nodes.Select(n => n.Configuration));

    /// <summary>
    /// Starts <paramref name="masters"/> masters with <paramref name="replicasPerMaster"/> replicas each.
    /// <paramref name="nodeTimeout"/> is <c>cluster-node-timeout</c>: how long a silent master goes before a replica takes over.
    /// </summary>
    public static RedisCluster Start(int masters = 3, int replicasPerMaster = 0, TimeSpan? nodeTimeout = null)
    {
        var cluster = new RedisCluster();
        try
        {
            string timeout = ((long)(nodeTimeout ?? TimeSpan.FromSeconds(5)).TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
            for (int i = 0; i < masters * (1 + replicasPerMaster); i++)
                cluster._nodes.Add(StartNode(timeout));
            Run("redis-cli", ["--cluster", "create", .. cluster._nodes.Select(n => n.Configuration),
                "--cluster-replicas", replicasPerMaster.ToString(CultureInfo.InvariantCulture), "--cluster-yes"]);
            cluster.WaitUntilHealthy();
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    /// <summary>The hash slot of <paramref name="key"/>, as the cluster computes it (<c>CLUSTER KEYSLOT</c>).</summary>
    public int KeySlot(string key) => int.Parse(LiveNodes.First().Cli("CLUSTER", "KEYSLOT", key), CultureInfo.InvariantCulture);

    /// <summary>The master currently serving <paramref name="key"/>'s slot.</summary>
    public RedisServer MasterOf(string key)
    {
        int slot = KeySlot(key);
        foreach (NodeLine line in Topology(LiveNodes.First()))
        {
            if (line.IsServingMaster && line.Slots.Any(range => range.First <= slot && slot <= range.Last))
                return _nodes.Single(n => n.Port == line.Port);
        }
        throw new InvalidOperationException($"No master serves slot {slot}.");
    }

    /// <summary>The replicas of <paramref name="master"/> that are running.</summary>
    public IReadOnlyList<RedisServer> ReplicasOf(RedisServer master)
    {
        string masterId = Topology(master).Single(l => l.Port == master.Port).Id;
        HashSet<int> ports = Topology(master).Where(l => l.MasterId == masterId && !l.Failed).Select(l => l.Port).ToHashSet();
        return LiveNodes.Where(n => ports.Contains(n.Port)).ToList();
    }

    /// <summary>The number of keys <paramref name="node"/> holds (<c>DBSIZE</c>; a cluster has only database 0).</summary>
    public static long KeyCount(RedisServer node) => long.Parse(node.Cli("DBSIZE"), CultureInfo.InvariantCulture);

    /// <summary>Kills <paramref name="node"/> with SIGKILL, as a crash would; it stays dead.</summary>
    public void Kill(RedisServer node)
    {
        node.Kill();
        _killed.Add(node);
    }

    /// <summary>
    /// Waits until every running node says <c>cluster_state:ok</c>, they all name the same masters for all 16384 slots,
    /// and every running replica is linked to its master and has caught up with it.
    /// </summary>
    public void WaitUntilHealthy(TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        string problem;
        while ((problem = HealthProblem()) != "")
        {
            if (clock.Elapsed > (timeout ?? ReadyTimeout))
                throw new TimeoutException("The Redis cluster did not become healthy: " + problem);
            Thread.Sleep(50);
        }
    }

    private string HealthProblem()
    {
        string? agreedSlots = null;
        foreach (RedisServer node in LiveNodes)
        {
            if (!node.Cli("CLUSTER", "INFO").Contains("cluster_state:ok", StringComparison.Ordinal))
                return $"node {node.Port} is not ok";
            List<NodeLine> topology = Topology(node);
            List<NodeLine> masters = topology.Where(l => l.IsServingMaster).OrderBy(l => l.Port).ToList();
            if (masters.Sum(m => m.Slots.Sum(r => r.Last - r.First + 1)) != 16384)
                return $"node {node.Port} does not see every slot served";
            string slots = string.Join(" ", masters.Select(m => m.Port + "=" + string.Join(",", m.Slots)));
            if (agreedSlots is not null && agreedSlots != slots)
                return $"node {node.Port} disagrees about the slots ({slots} vs {agreedSlots})";
            agreedSlots = slots;

            string replication = node.Cli("INFO", "replication");
            if (replication.Contains("role:slave", StringComparison.Ordinal) && !replication.Contains("master_link_status:up", StringComparison.Ordinal))
                return $"replica {node.Port} is not linked to its master";
            if (replication.Contains("role:master", StringComparison.Ordinal) && !ReplicasCaughtUp(replication))
                return $"the replicas of {node.Port} have not caught up";
        }
        return "";
    }

    /// <summary>Every online replica listed in a master's <c>INFO replication</c> has its offset.</summary>
    private static bool ReplicasCaughtUp(string replication)
    {
        string[] lines = replication.Split('\n', StringSplitOptions.TrimEntries);
        string? offset = lines.FirstOrDefault(l => l.StartsWith("master_repl_offset:", StringComparison.Ordinal))?["master_repl_offset:".Length..];
        return lines.Where(l => l.StartsWith("slave", StringComparison.Ordinal) && l.Contains("ip=", StringComparison.Ordinal))
            .All(l => l.Contains("state=online", StringComparison.Ordinal) && l.Contains(",offset=" + offset + ",", StringComparison.Ordinal));
    }

    private readonly record struct SlotRange(int First, int Last)
    {
        public override string ToString() => First + "-" + Last;
    }

    /// <summary>One line of <c>CLUSTER NODES</c>: id, ip:port@bus, flags, master id, ping, pong, epoch, link, slots...</summary>
    private sealed record NodeLine(string Id, int Port, bool IsMaster, bool Failed, string MasterId, List<SlotRange> Slots)
    {
        public bool IsServingMaster => IsMaster && !Failed && Slots.Count > 0;
    }

    private static List<NodeLine> Topology(RedisServer node)
    {
        var lines = new List<NodeLine>();
        foreach (string text in node.Cli("CLUSTER", "NODES").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] fields = text.Split(' ');
            string address = fields[1].Split('@')[0];
            int port = int.Parse(address[(address.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
            string[] flags = fields[2].Split(',');
            var slots = new List<SlotRange>();
            // Slot fields are "n" or "a-b"; "[n->-id]" marks a slot being migrated and is not served here yet.
            foreach (string slot in fields.Skip(8).Where(f => !f.StartsWith('[')))
            {
                string[] ends = slot.Split('-');
                slots.Add(new SlotRange(int.Parse(ends[0], CultureInfo.InvariantCulture), int.Parse(ends[^1], CultureInfo.InvariantCulture)));
            }
            lines.Add(new NodeLine(fields[0], port, flags.Contains("master"), flags.Contains("fail") || flags.Contains("fail?"), fields[3], slots));
        }
        return lines;
    }

    private static void Run(string fileName, string[] arguments)
    {
        var info = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
            info.ArgumentList.Add(argument);
        using Process process = Process.Start(info)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill();
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish within 60 s.");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} failed ({process.ExitCode}): {output.Result} {errors.Result}");
    }

    /// <summary>One node; a port taken by someone else between the check and the bind makes it retry on another pair.</summary>
    private static RedisServer StartNode(string nodeTimeout)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return RedisServer.StartOnPort(FreePortWithFreeBusPort(),
                    "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", nodeTimeout);
            }
            catch (InvalidOperationException) when (attempt < 5)
            {
            }
        }
    }

    /// <summary>A loopback port that is free, and whose cluster bus port (port + 10000) is free too.</summary>
    private static int FreePortWithFreeBusPort()
    {
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            int port = Random.Shared.Next(20_000, 55_000);
            if (IsFree(port) && IsFree(port + 10_000))
                return port;
        }
        throw new InvalidOperationException("No free pair of loopback ports (port, port + 10000) was found.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        foreach (RedisServer node in _nodes)
            node.Dispose();
    }
}
