using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CacheGen.Packaging.Tests;

/// <summary>
/// The README's quick-start commands for the sample, run verbatim in a copy of the repository (a fresh clone, as far
/// as they can tell): <c>./demo.sh</c>, and <c>addpost</c> then the API through <c>dotnet run</c> with no Redis.
/// </summary>
[Collection(RepositoryCopyCollection.Name)]
public sealed class SampleCommandTests(RepositoryCopy repository)
{
    [Fact]
    public void Demo_script_runs_to_the_end()
    {
        string output = Processes.Shell(ReadmeCommands.Demo, repository.Root);

        Assert.Contains("Successfully added 1000 posts", output);
        Assert.Contains("cached body is byte-identical to the first one (1000 posts)", output);
        Assert.Contains("posts in GET /posts/: 1000 -> 1001", output);
        Assert.Contains("the new post is in the next GET /posts/", output);
        // /health and the inspector on the demo's Redis: the posts region with its entries, one entry decoded.
        Assert.Contains("{\"status\":\"Healthy\"", output);
        Assert.Matches(@"\nposts\s+\d+\s+[1-9]\d*\s+\d+\s+\d+\s+\d+\n", output);
        Assert.Contains("checksum     ok", output);
        Assert.Contains("\"title\":\"Test Post0\"", output);
    }

    [Fact]
    public async Task Addpost_then_dotnet_run_serves_the_posts_without_redis()
    {
        string database = Path.Combine(repository.Root, "sample-api", "posts.db");
        File.Delete(database);
        string added = Processes.Shell(ReadmeCommands.AddPost, repository.Root);
        Assert.Contains("Successfully added 1000 posts", added);

        // The README names no port; a free one keeps this run from meeting anything else on the machine's 5000.
        int port = FreePort();
        using Process api = Processes.Start("bash", repository.Root, new Dictionary<string, string> { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}" },
            "-c", ReadmeCommands.RunSample);
        var log = new StringBuilder();
        api.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        api.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        api.BeginOutputReadLine();
        api.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            string? posts = null;
            // dotnet run builds the sample (Debug) first: allow for a cold build on a busy machine.
            for (var wait = Stopwatch.StartNew(); posts is null && wait.Elapsed < TimeSpan.FromMinutes(4) && !api.HasExited; )
            {
                try
                {
                    posts = await http.GetStringAsync($"http://127.0.0.1:{port}/posts/");
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(250);
                }
            }
            string output;
            lock (log) output = log.ToString();
            Assert.True(posts is not null, $"GET /posts/ never answered (exited: {api.HasExited}):\n{output}");
            Assert.Contains("\"post_1000\":{", posts);
            Assert.Contains("CacheGen is running on the in-process cache only", output);
        }
        finally
        {
            api.Kill(entireProcessTree: true);
            await api.WaitForExitAsync();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
