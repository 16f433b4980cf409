using System.Globalization;
using System.Net.Http.Json;

namespace Aspire.Hosting;

/// <summary>
/// What the dashboard offers on the pipeline's services: commands that call the ingestor's API (start a
/// run, pause and resume the schedule) and the processor's (replay the dead letters of a code), and links to the
/// runs, the dead letters and the stored users.
/// </summary>
public static class PipelineDashboardExtensions
{
    /// <summary>The names of the commands on the services' dashboard pages.</summary>
    public static class Commands
    {
        public const string StartRun = "start-run";
        public const string PauseSchedule = "pause-schedule";
        public const string ResumeSchedule = "resume-schedule";
        public const string ReplayDeadLetters = "replay-dead-letters";
    }

    /// <summary>The names of the commands' arguments.</summary>
    public static class Arguments
    {
        /// <summary>The start-run command's: the number of users (empty: the schedule's size).</summary>
        public const string RunSize = "size";

        /// <summary>The replay command's: the rejection code whose dead letters are replayed.</summary>
        public const string ReplayCode = "code";
    }

    private const string Endpoint = "http";

    /// <summary>
    /// Adds the ingestor's commands: <c>start-run</c> (<c>POST /runs</c>, with the number of users asked for, or
    /// the schedule's size when left empty), <c>pause-schedule</c> and <c>resume-schedule</c>
    /// (<c>PUT /schedule</c>); each is enabled while the ingestor reports healthy, and shows the API's answer.
    /// Also links the run history (<c>/runs</c>) and the schedule (<c>/schedule</c>). Each command sends
    /// <paramref name="apiKey"/> in the <c>X-Api-Key</c> header.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithIngestCommands(
        this IResourceBuilder<ProjectResource> ingestor, IResourceBuilder<ParameterResource> apiKey)
    {
        ArgumentNullException.ThrowIfNull(ingestor);
        ArgumentNullException.ThrowIfNull(apiKey);

        var startRun = ApiCommand(HttpMethod.Post, "Ingests a run of users now (POST /runs).", "Play", apiKey, context =>
            {
                var size = ArgumentOf(context, Arguments.RunSize);
                return string.IsNullOrWhiteSpace(size)
                    ? JsonContent.Create(new { })
                    : JsonContent.Create(new { size = int.Parse(size, NumberStyles.Integer, CultureInfo.InvariantCulture) });
            },
            Argument(Arguments.RunSize, "Users", "How many users to ingest; empty for the schedule's size.", InputType.Number, required: false));
        startRun.IsHighlighted = true;

        return ingestor
            .WithHttpCommand("/runs", "Start a run", Endpoint, Commands.StartRun, startRun)
            .WithHttpCommand("/schedule", "Pause the schedule", Endpoint, Commands.PauseSchedule, ScheduleCommand(paused: true, apiKey))
            .WithHttpCommand("/schedule", "Resume the schedule", Endpoint, Commands.ResumeSchedule, ScheduleCommand(paused: false, apiKey))
            .WithApiLinks(("/runs", "Runs"), ("/schedule", "Schedule"));
    }

    /// <summary>
    /// Adds the processor's command <c>replay-dead-letters</c>: replays every dead letter of the code asked for
    /// (<c>POST /dead-letters/replay {"code":…}</c>, exactly once: what was replayed before is skipped), enabled while
    /// the processor reports healthy, showing the answer (selected, sent, skipped, remaining); with
    /// <paramref name="apiKey"/> in the <c>X-Api-Key</c> header. Also links the dead letters (<c>/dead-letters</c>) and
    /// their counts (<c>/dead-letters/summary</c>).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithDeadLetterCommands(
        this IResourceBuilder<ProjectResource> processor, IResourceBuilder<ParameterResource> apiKey)
    {
        ArgumentNullException.ThrowIfNull(processor);
        ArgumentNullException.ThrowIfNull(apiKey);

        var replay = ApiCommand(
            HttpMethod.Post,
            "Sends every dead letter of one rejection code back to the topic it came from, once (POST /dead-letters/replay).",
            "ArrowRepeatAll",
            apiKey,
            context =>
            {
                // Never "every dead letter" by accident: the command replays one code.
                var code = ArgumentOf(context, Arguments.ReplayCode);
                return string.IsNullOrWhiteSpace(code)
                    ? throw new InvalidOperationException($"Give the rejection code to replay (argument '{Arguments.ReplayCode}').")
                    : JsonContent.Create(new { code = code.Trim() });
            },
            Argument(
                Arguments.ReplayCode,
                "Rejection code",
                "The dead-letter code to replay (dlq-error-code), e.g. field_too_long or store_rejected; see /dead-letters/summary.",
                InputType.Text,
                required: true));
        replay.ConfirmationMessage = "Replay every dead letter of this code? Each is sent once; one replayed before is skipped.";

        return processor
            .WithHttpCommand("/dead-letters/replay", "Replay dead letters", Endpoint, Commands.ReplayDeadLetters, replay)
            .WithApiLinks(("/dead-letters", "Dead letters"), ("/dead-letters/summary", "Dead-letter counts"));
    }

    /// <summary>Links the sink's stored users: the newest (<c>/users</c>) and their count (<c>/users/count</c>).</summary>
    public static IResourceBuilder<ProjectResource> WithStoredUsersLinks(this IResourceBuilder<ProjectResource> sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        return sink.WithApiLinks(("/users", "Users"), ("/users/count", "User count"));
    }

    /// <summary>Adds the API key (the parameter's value) to a command's request.</summary>
    public static async Task AddApiKeyAsync(HttpCommandRequestContext context, IResourceBuilder<ParameterResource> apiKey)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(apiKey);
        context.Request.Headers.Add(ApiKeys.Header, await apiKey.Resource.GetValueAsync(context.CancellationToken));
    }

    /// <summary>The value the user gave the command's argument <paramref name="name"/>, or null.</summary>
    private static string? ArgumentOf(HttpCommandRequestContext context, string name) =>
        context.Arguments?.ContainsName(name) == true ? context.Arguments.GetString(name) : null;

    private static HttpCommandOptions ScheduleCommand(bool paused, IResourceBuilder<ParameterResource> apiKey) => ApiCommand(
        HttpMethod.Put,
        paused ? "Stops scheduled runs (PUT /schedule {\"paused\":true})." : "Starts scheduled runs again (PUT /schedule {\"paused\":false}).",
        paused ? "Pause" : "Play",
        apiKey,
        _ => JsonContent.Create(new { paused }));

    /// <summary>
    /// A command that calls the service's API with <paramref name="method"/>, a JSON body from <paramref name="body"/> and
    /// the API key; enabled while the service reports healthy; showing the API's JSON answer.
    /// </summary>
    private static HttpCommandOptions ApiCommand(
        HttpMethod method, string description, string icon, IResourceBuilder<ParameterResource> apiKey,
        Func<HttpCommandRequestContext, HttpContent> body, InteractionInput? argument = null)
    {
        var options = new HttpCommandOptions
        {
            Method = method,
            Description = description,
            IconName = icon,
            PrepareRequest = async context =>
            {
                context.Request.Content = body(context);
                await AddApiKeyAsync(context, apiKey);
            },
            ResultMode = HttpCommandResultMode.Json,
            UpdateState = EnabledWhenHealthy,
        };
        if (argument is not null)
        {
            options.Arguments = [argument];
        }

        return options;
    }

    private static InteractionInput Argument(string name, string label, string description, InputType type, bool required) =>
        new() { Name = name, Label = label, Description = description, InputType = type, Required = required };

    /// <summary>Names the service's endpoint "API" and links pages of it.</summary>
    private static IResourceBuilder<ProjectResource> WithApiLinks(
        this IResourceBuilder<ProjectResource> service, params (string Path, string Text)[] links)
    {
        service.WithUrlForEndpoint(Endpoint, url => url.DisplayText = "API");
        foreach (var (path, text) in links)
        {
            service.WithUrl(ReferenceExpression.Create($"{service.GetEndpoint(Endpoint)}{path}"), text);
        }

        return service;
    }

    private static ResourceCommandState EnabledWhenHealthy(UpdateCommandStateContext context) =>
        context.ResourceSnapshot.HealthStatus == HealthStatus.Healthy ? ResourceCommandState.Enabled : ResourceCommandState.Disabled;
}
