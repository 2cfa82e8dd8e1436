using System.Diagnostics;

namespace CacheGen.SampleApi.Tests;

/// <summary>
/// Debian's headless <c>chromium</c>, one process per look: <c>--dump-dom</c> gives the page as its script left it,
/// <c>--screenshot</c> a PNG. Virtual time lets the page's polling run for a few seconds without the test waiting them.
/// ./test.sh installs the package when it is missing.
/// </summary>
internal static class Chromium
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(90);

    /// <summary>The DOM of <paramref name="url"/> after the page ran for <paramref name="virtualMilliseconds"/> of virtual time.</summary>
    public static async Task<string> DumpDomAsync(Uri url, int virtualMilliseconds = 3000) =>
        await RunAsync(["--dump-dom", $"--virtual-time-budget={virtualMilliseconds}", url.ToString()]);

    /// <summary>Saves a PNG of <paramref name="url"/> (1100 × 900) to <paramref name="path"/>.</summary>
    public static async Task ScreenshotAsync(Uri url, string path, int virtualMilliseconds = 3000) =>
        await RunAsync(["--hide-scrollbars", "--window-size=1100,900", $"--virtual-time-budget={virtualMilliseconds}", "--screenshot=" + path, url.ToString()]);

    private static async Task<string> RunAsync(string[] arguments)
    {
        string profile = Path.Combine(Path.GetTempPath(), "cachegen-chromium-" + Guid.NewGuid().ToString("N"));
        var info = new ProcessStartInfo("chromium")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // --no-sandbox: the tests run as root (CI does), where Chromium's sandbox refuses to start.
        foreach (string argument in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=" + profile, .. arguments])
            info.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("chromium is not installed: apt-get install chromium (./test.sh does this as root)", e);
        }
        using (process)
        {
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            Task<string> errors = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(HangGuard);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"chromium did not finish within {HangGuard.TotalSeconds} s");
            }
            finally
            {
                try
                {
                    Directory.Delete(profile, recursive: true);
                }
                catch (IOException)
                {
                }
            }
            Assert.True(process.ExitCode == 0, $"chromium exited with {process.ExitCode}: {await errors}");
            return await output;
        }
    }
}
