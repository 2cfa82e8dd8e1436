using System.Diagnostics;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace CacheGen.SampleApi.Tests;

/// <summary>The <c>addpost</c> command as a real process, its argument checks, and the no-Redis mode.</summary>
public sealed class CommandAndModeTests
{
    [Fact]
    public async Task AddPost_as_a_process_prints_exactly_the_original_line()
    {
        string directory = Directory.CreateTempSubdirectory("cachegen-addpost-").FullName;
        try
        {
            string database = Path.Combine(directory, "posts.db");

            (int exitCode, string stdout, string stderr) = await RunSampleAsync(directory, "addpost", "1000", $"--Posts:Database={database}");

            Assert.True(exitCode == 0, $"exit {exitCode}: {stderr}");
            Assert.Equal("Successfully added 1000 posts\n", stdout);
            Assert.Equal("", stderr);
            await using var connection = new SqliteConnection($"Data Source={database};Pooling=False");
            await connection.OpenAsync();
            await using SqliteCommand count = connection.CreateCommand();
            count.CommandText = "SELECT COUNT(*), MIN(title), MAX(id) FROM posts";
            await using SqliteDataReader reader = await count.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(1000L, reader.GetInt64(0));
            Assert.Equal("Test Post0", reader.GetString(1));
            Assert.Equal(1000L, reader.GetInt64(2));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData]
    [InlineData("abc")]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("1e3")]
    [InlineData("1000001")]
    public async Task AddPost_with_a_bad_count_explains_on_stderr_and_exits2(params string[] countArguments)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int exitCode = await SampleApp.RunAsync(["addpost", .. countArguments], stdout, stderr);

        Assert.Equal(2, exitCode);
        Assert.Equal("", stdout.ToString());
        Assert.Contains("usage: addpost N", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_redis_serves_from_the_in_process_cache_and_says_so_in_the_log()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 20, withRedis: false);
        // Said at start-up, before any request touched the cache.
        Assert.Contains(host.Logs.Lines, line => line.Contains("CacheGen is running on the in-process cache only", StringComparison.Ordinal));

        (JsonElement posts, string first) = await host.ListAsync();
        long queries = host.Store.QueryCount;
        (_, string second) = await host.ListAsync();

        Assert.Equal(20, posts.EnumerateObject().Count());
        Assert.Equal(first, second);
        Assert.Equal(queries, host.Store.QueryCount);
        Assert.Contains(host.Logs.Lines, line => line.Contains("CacheGen is running on the in-process cache only", StringComparison.Ordinal));
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunSampleAsync(string workingDirectory, params string[] arguments)
    {
        // The sample is a project reference, so its dll (and runtimeconfig) sit beside the test assembly.
        string sample = Path.Combine(AppContext.BaseDirectory, "CacheGen.SampleApi.dll");
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(sample);
        foreach (string argument in arguments)
            info.ArgumentList.Add(argument);
        info.Environment.Remove("CacheGen__Redis");
        using Process process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
