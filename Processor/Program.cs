using UserStream.Process;
using UserStream.Services.Processor;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapProcessEndpoints();

app.Run();
