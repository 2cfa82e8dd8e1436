using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace CacheGen.SampleApi.Tests;

/// <summary>
/// The sample's <c>/cache</c> page in a real browser (Debian's headless Chromium) against the real app on Kestrel and
/// a real redis-server: the chart shows region <c>posts</c> once requests were served, and moves after an eviction.
/// The screenshot is kept as a test artifact.
/// </summary>
public sealed partial class CachePageTests(ITestOutputHelper output)
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    [GeneratedRegex("""<svg [^>]*data-region="posts" data-hits="(?<hits>\d+)" data-misses="(?<misses>\d+)" data-evictions="(?<evictions>\d+)"[^>]*>(?<chart>.*?)</svg>""", RegexOptions.Singleline)]
    private static partial Regex PostsChart();

    private sealed record Chart(long Hits, long Misses, long Evictions, string HitLine, string Page);

    private static async Task<Chart?> LookAsync(Uri page)
    {
        string dom = await Chromium.DumpDomAsync(page);
        Match chart = PostsChart().Match(dom);
        if (!chart.Success)
            return null;
        string hitLine = Regex.Match(chart.Groups["chart"].Value, "class=\"hits\"[^>]*points=\"([^\"]*)\"").Groups[1].Value;
        return new Chart(long.Parse(chart.Groups["hits"].Value), long.Parse(chart.Groups["misses"].Value), long.Parse(chart.Groups["evictions"].Value), hitLine, dom);
    }

    /// <summary>Opens the page until <paramref name="until"/> holds (the app samples its counters once a second).</summary>
    private static async Task<Chart> LookUntilAsync(Uri page, Func<Chart, bool> until, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await LookAsync(page) is { } chart && until(chart))
                return chart;
            Assert.True(clock.Elapsed < HangGuard, "the /cache page never showed " + what);
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task The_cache_page_charts_region_posts_and_moves_after_an_eviction()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 50);
        var page = new Uri(host.Client.BaseAddress!, "/cache");
        for (int i = 0; i < 20; i++)
        {
            await host.ListAsync();
            (await host.Client.GetAsync($"/posts/{1 + i % 5}")).EnsureSuccessStatusCode();
        }

        Chart before = await LookUntilAsync(page, c => c.Hits > 0 && c.Misses > 0, "the posts region's hits and misses");
        Assert.Contains("region posts: hit ratio", before.Page);
        Assert.Contains(">answering<", before.Page);   // the Redis card

        // A write evicts region "posts": the next list is a miss, and both show on the chart.
        using (HttpResponseMessage created = await host.SendJsonAsync(HttpMethod.Post, "/posts/", new { title = "Eviction", content = "Moves the chart." }))
            created.EnsureSuccessStatusCode();
        await host.ListAsync();
        await host.ListAsync();
        Chart after = await LookUntilAsync(page, c => c.Evictions > before.Evictions && c.Misses > before.Misses, "the eviction");
        Assert.NotEqual(before.HitLine, after.HitLine);
        Assert.Contains("class=\"eviction\"", after.Page);
        Assert.Matches(@"<td>\d\d:\d\d:\d\d</td><td>posts</td>", after.Page);   // last evictions

        string artifacts = Path.Combine(AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(artifacts);
        string screenshot = Path.Combine(artifacts, "cache-page.png");
        File.Delete(screenshot);
        await Chromium.ScreenshotAsync(page, screenshot);
        Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot is (nearly) empty");
        output.WriteLine("screenshot: " + screenshot);
    }
}
